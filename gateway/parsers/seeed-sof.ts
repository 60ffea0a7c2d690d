// Framing of the Seeed XIAO-kit radar protocol (MR60FDA2, MR60BHA2; devices.md section 2):
// `01`, frame id (u16 BE), length (u16 BE), type (u16 BE), header checksum over bytes 0-6, data,
// data checksum (absent when the length is 0). Checksum = NOT of the XOR of the bytes.
// A one-byte start mark occurs often in noise, so the header checksum decides whether a `01` starts
// a frame; a false start is only counted (not reported), while a frame whose header is valid but
// whose length or data checksum is not is a bad frame. After either the parser drops one byte and
// searches for the next `01`. The buffer holds at most one frame.
import { Transform, type TransformCallback } from 'node:stream';
import type { FrameRejection } from './seeed-5359.ts';

export interface SeeedSofFrame {
  id: number;
  type: number;
  data: Buffer;
}

export interface SeeedSofParserOptions {
  /**
   * Frames announcing more data than this are rejected. ESPHome's buffers hold 12 (MR60BHA2) and
   * 28 (MR60FDA2) data bytes; 64 keeps the larger target-list reports while bounding what a
   * corrupt length can make us wait for.
   */
  maxDataBytes?: number;
  reportRejects?: boolean;
}

const SOF = 0x01;
const HEAD = 8; // SOF, id x2, length x2, type x2, header checksum

export class SeeedSofParser extends Transform {
  private pending: Buffer = Buffer.alloc(0);
  private readonly maxDataBytes: number;
  private readonly reportRejects: boolean;
  readonly stats = { frames: 0, badFrames: 0, falseStarts: 0, skippedBytes: 0 };

  constructor(opts: SeeedSofParserOptions = {}) {
    super({ readableObjectMode: true });
    this.maxDataBytes = opts.maxDataBytes ?? 64;
    this.reportRejects = opts.reportRejects ?? false;
    if (!Number.isInteger(this.maxDataBytes) || this.maxDataBytes < 0 || this.maxDataBytes > 0xffff)
      throw new TypeError('maxDataBytes must be an integer from 0 to 65535');
  }

  /** Bytes held while waiting for the rest of a frame; never more than one maximal frame. */
  get bufferedBytes(): number {
    return this.pending.length;
  }

  /** The largest frame accepted; `bufferedBytes` stays below it. */
  get maxFrameBytes(): number {
    return HEAD + this.maxDataBytes + 1;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    const buf = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    let at = 0;
    for (;;) {
      const start = buf.indexOf(SOF, at);
      if (start === -1) {
        this.stats.skippedBytes += buf.length - at;
        at = buf.length;
        break;
      }
      this.stats.skippedBytes += start - at;
      at = start;
      const c = this.check(buf, at);
      if (c.kind === 'false-start') {
        this.stats.falseStarts += 1;
        this.stats.skippedBytes += 1;
        at += 1;
        continue;
      }
      if (c.kind === 'bad') {
        at = this.reject(at, c.reason);
        continue;
      }
      // A stray header (noise, or the start of a frame cut off by a reset) can announce a length
      // that swallows the real frame after it: while incomplete, the real frame would wait for bytes
      // the radar has no reason to send (a fall followed by silence); when complete, it could even
      // pass its checksum. A complete valid frame inside its span shows it for what it is. The cost:
      // a genuine frame whose data holds a whole valid frame is lost, which none of the frames
      // the adapter uses can do (their data is shorter than a frame).
      if (this.completeFrameWithin(buf, at, c.kind === 'incomplete' ? buf.length : c.end)) {
        at = this.reject(at, 'header overlaps a complete frame');
        continue;
      }
      // Header and data share one checksum, so a stray header of length 7 (a frame cut off right
      // after its header) followed by any frame makes a valid frame of that frame's header. A valid
      // header where the data should start gives it away; no frame the adapter uses is that long.
      if (c.kind === 'frame' && c.end - at >= 2 * HEAD && validHeaderAt(buf, at + HEAD)) {
        at = this.reject(at, 'data starts with a frame header');
        continue;
      }
      if (c.kind === 'incomplete') break;
      this.stats.frames += 1;
      const frame: SeeedSofFrame = {
        id: buf.readUInt16BE(at + 1),
        type: buf.readUInt16BE(at + 5),
        data: Buffer.from(buf.subarray(at + HEAD, at + HEAD + c.length)),
      };
      this.push(frame);
      at = c.end;
    }
    // Copy the remainder so a large chunk is not kept alive by a small slice of it.
    this.pending = at < buf.length ? Buffer.from(buf.subarray(at)) : Buffer.alloc(0);
    done();
  }

  /** Whether a `01` at `at` starts a frame that is valid, invalid, not one at all, or not all here yet. */
  private check(
    buf: Buffer,
    at: number,
  ): { kind: 'frame'; end: number; length: number } | { kind: 'incomplete' } | { kind: 'false-start' } | { kind: 'bad'; reason: string } {
    if (buf.length - at < HEAD) return { kind: 'incomplete' };
    if (!validHeaderAt(buf, at)) return { kind: 'false-start' };
    const length = buf.readUInt16BE(at + 3);
    if (length > this.maxDataBytes) return { kind: 'bad', reason: `length ${length} exceeds ${this.maxDataBytes}` };
    const end = at + HEAD + length + (length > 0 ? 1 : 0);
    if (buf.length < end) return { kind: 'incomplete' };
    if (length > 0 && sofChecksum(buf, at + HEAD, end - 1) !== buf[end - 1]) return { kind: 'bad', reason: 'bad data checksum' };
    return { kind: 'frame', end, length };
  }

  /** Whether a complete valid frame starts after `at` and ends by `limit`. */
  private completeFrameWithin(buf: Buffer, at: number, limit: number): boolean {
    for (let i = buf.indexOf(SOF, at + 1); i !== -1 && i < limit; i = buf.indexOf(SOF, i + 1)) {
      const c = this.check(buf, i);
      if (c.kind === 'frame' && c.end <= limit) return true;
    }
    return false;
  }

  override _flush(done: TransformCallback): void {
    this.pending = Buffer.alloc(0);
    done();
  }

  /** Counts a bad frame and resumes the search one byte after its start. */
  private reject(at: number, reason: string): number {
    this.stats.badFrames += 1;
    this.stats.skippedBytes += 1;
    if (this.reportRejects) this.push({ rejected: `seeed-sof: ${reason}` } satisfies FrameRejection);
    return at + 1;
  }
}

function validHeaderAt(buf: Buffer, i: number): boolean {
  return buf[i] === SOF && buf.length - i >= HEAD && sofChecksum(buf, i, i + 7) === buf[i + 7];
}

/** NOT of the XOR of bytes [from, to). */
export function sofChecksum(buf: Uint8Array, from = 0, to = buf.length): number {
  let x = 0;
  for (let i = from; i < to; i++) x ^= buf[i]!;
  return ~x & 0xff;
}

/** Builds a valid frame (tests, simulators, and writing commands to a radar). */
export function encodeSeeedSof(type: number, bytes: ArrayLike<number> = [], id = 0): Buffer {
  const data = Uint8Array.from(bytes);
  const frame = Buffer.alloc(HEAD + data.length + (data.length > 0 ? 1 : 0));
  frame.writeUInt8(SOF, 0);
  frame.writeUInt16BE(id & 0xffff, 1);
  frame.writeUInt16BE(data.length, 3);
  frame.writeUInt16BE(type & 0xffff, 5);
  frame.writeUInt8(sofChecksum(frame, 0, 7), 7);
  if (data.length > 0) {
    frame.set(data, HEAD);
    frame.writeUInt8(sofChecksum(data), HEAD + data.length);
  }
  return frame;
}

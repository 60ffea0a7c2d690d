// Framing of the Seeed "53 59" radar protocol (MR24HPC1, MR60FDA1, MR60BHA1; devices.md section 1):
// `53 59`, control, command, length (u16 BE), data, checksum (low byte of the sum), `54 43`.
// Frames are cut by the length field, never by scanning for the tail, because data bytes can equal
// `43`. After anything invalid the parser drops one byte and searches for the next `53 59`, so one
// corrupt byte costs at most the frames it overlaps. The buffer holds at most one frame.
import { Transform, type TransformCallback } from 'node:stream';

export interface Seeed5359Frame {
  control: number;
  command: number;
  data: Buffer;
}

/** Pushed instead of a frame when `reportRejects` is on, so the adapter can count and log it. */
export interface FrameRejection {
  rejected: string;
}

export interface Seeed5359ParserOptions {
  /**
   * Frames announcing more data than this are rejected. ESPHome drops anything over 32 bytes; the
   * longest known frames (product info strings) are shorter, and 64 leaves room for firmware that
   * pads them while still bounding what a corrupt length field can make us wait for.
   */
  maxDataBytes?: number;
  reportRejects?: boolean;
}

const H1 = 0x53;
const H2 = 0x59;
const T1 = 0x54;
const T2 = 0x43;
const HEAD = 6; // 53 59 ctrl cmd lenHi lenLo
const TRAILER = 3; // checksum 54 43

export class Seeed5359Parser extends Transform {
  private pending: Buffer = Buffer.alloc(0);
  private readonly maxDataBytes: number;
  private readonly reportRejects: boolean;
  readonly stats = { frames: 0, badFrames: 0, skippedBytes: 0 };

  constructor(opts: Seeed5359ParserOptions = {}) {
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
    return HEAD + this.maxDataBytes + TRAILER;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    const buf = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    let at = 0;
    for (;;) {
      const start = findHeader(buf, at);
      if (start === -1) {
        // Keep a trailing 53: it may be the first half of a header split across chunks.
        const keep = buf.length > at && buf[buf.length - 1] === H1 ? 1 : 0;
        this.stats.skippedBytes += buf.length - at - keep;
        at = buf.length - keep;
        break;
      }
      this.stats.skippedBytes += start - at;
      at = start;
      const c = this.check(buf, at);
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
      if (c.kind === 'incomplete') break;
      this.stats.frames += 1;
      const frame: Seeed5359Frame = {
        control: buf[at + 2]!,
        command: buf[at + 3]!,
        data: Buffer.from(buf.subarray(at + HEAD, c.end - TRAILER)),
      };
      this.push(frame);
      at = c.end;
    }
    // Copy the remainder so a large chunk is not kept alive by a small slice of it.
    this.pending = at < buf.length ? Buffer.from(buf.subarray(at)) : Buffer.alloc(0);
    done();
  }

  /** Whether a header at `at` starts a frame that is valid, invalid, or not all here yet. */
  private check(buf: Buffer, at: number): { kind: 'frame'; end: number } | { kind: 'incomplete' } | { kind: 'bad'; reason: string } {
    if (buf.length - at < HEAD) return { kind: 'incomplete' };
    const length = buf.readUInt16BE(at + 4);
    if (length > this.maxDataBytes) return { kind: 'bad', reason: `length ${length} exceeds ${this.maxDataBytes}` };
    const end = at + HEAD + length + TRAILER;
    if (buf.length < end) return { kind: 'incomplete' };
    const sumAt = end - TRAILER;
    if (checksum(buf, at, sumAt) !== buf[sumAt]) return { kind: 'bad', reason: 'bad checksum' };
    if (buf[sumAt + 1] !== T1 || buf[sumAt + 2] !== T2) return { kind: 'bad', reason: 'bad tail' };
    return { kind: 'frame', end };
  }

  /** Whether a complete valid frame starts after `at` and ends by `limit`. */
  private completeFrameWithin(buf: Buffer, at: number, limit: number): boolean {
    for (let i = findHeader(buf, at + 1); i !== -1 && i < limit; i = findHeader(buf, i + 1)) {
      const c = this.check(buf, i);
      if (c.kind === 'frame' && c.end <= limit) return true;
    }
    return false;
  }

  override _flush(done: TransformCallback): void {
    this.pending = Buffer.alloc(0);
    done();
  }

  /** Counts a bad frame and resumes the search one byte after its header. */
  private reject(at: number, reason: string): number {
    this.stats.badFrames += 1;
    this.stats.skippedBytes += 1;
    if (this.reportRejects) this.push({ rejected: `seeed-5359: ${reason}` } satisfies FrameRejection);
    return at + 1;
  }
}

function findHeader(buf: Buffer, from: number): number {
  for (let i = buf.indexOf(H1, from); i !== -1; i = buf.indexOf(H1, i + 1)) {
    if (i + 1 >= buf.length) return -1;
    if (buf[i + 1] === H2) return i;
  }
  return -1;
}

/** Low 8 bits of the sum of bytes [from, to). */
export function checksum(buf: Uint8Array, from = 0, to = buf.length): number {
  let sum = 0;
  for (let i = from; i < to; i++) sum += buf[i]!;
  return sum & 0xff;
}

/** Builds a valid frame (tests, simulators, and writing queries to a radar). */
export function encodeSeeed5359(control: number, command: number, bytes: ArrayLike<number> = []): Buffer {
  const data = Uint8Array.from(bytes);
  const frame = Buffer.alloc(HEAD + data.length + TRAILER);
  frame.writeUInt8(H1, 0);
  frame.writeUInt8(H2, 1);
  frame.writeUInt8(control & 0xff, 2);
  frame.writeUInt8(command & 0xff, 3);
  frame.writeUInt16BE(data.length, 4);
  frame.set(data, HEAD);
  frame.writeUInt8(checksum(frame, 0, HEAD + data.length), HEAD + data.length);
  frame.writeUInt8(T1, HEAD + data.length + 1);
  frame.writeUInt8(T2, HEAD + data.length + 2);
  return frame;
}

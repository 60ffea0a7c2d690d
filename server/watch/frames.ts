// Framing of the "watch" protocol (DESIGN.md 3.10, devices.md "GPS watches"):
// `[MF*<id>*<LEN>*<content>]` or, from some makers, `[MF*<id>*<IDX>*<LEN>*<content>]`, where LEN is
// the content's length in bytes as 4 hex digits. A streaming reader: TCP may split a frame across
// reads or put several in one; bytes that are not a frame are skipped up to the next `[` and
// reported. The buffer never holds more than one frame of the largest allowed size.

export interface WatchFrame {
  /** Two-letter maker prefix: `3G`, `SG`, `CS`, ... (answered with the same). */
  maker: string;
  /** The device id: its IMEI (or a 10-digit id on some models). */
  id: string;
  /** The optional 4-hex index field some makers send; echoed in answers. */
  index: string | null;
  /** The content's first field: `LK`, `UD`, `UD2`, `AL`, ... */
  keyword: string;
  /** The rest of the content after the keyword and its comma ('' when none). */
  body: string;
  /** LEN matched the content's length. Some makers miscount it; the frame is used all the same. */
  lengthOk: boolean;
}

export type FrameResult = { ok: true; frame: WatchFrame } | { ok: false; reason: BadFrameReason };
export type BadFrameReason = 'garbage' | 'header' | 'too_large' | 'unterminated' | 'escape';

// `[` maker `*` id `*` [IDX `*`] LEN `*`: id up to 20 characters, so a header is at most 37 bytes.
const HEADER = /^\[([0-9A-Z]{2})\*([0-9A-Za-z]{1,20})\*(?:([0-9A-Fa-f]{4})\*)?([0-9A-Fa-f]{4})\*/;
const HEADER_MAX = 1 + 2 + 1 + 20 + 1 + 5 + 5;
const OPEN = 0x5b; // [
const CLOSE = 0x5d; // ]
const ESCAPE = 0x7d; // }
// Binary content (voice, images) escapes the framing bytes: `}` followed by 1-5.
const UNESCAPED = [0, 0x7d, 0x5b, 0x5d, 0x2c, 0x2a];

export interface FrameReaderOptions {
  /** Largest content accepted (bytes); a larger LEN is refused without waiting for its bytes. */
  maxContentBytes: number;
}

export function createFrameReader(opts: FrameReaderOptions) {
  let buf = Buffer.alloc(0);
  // Escaped content may take up to twice its length on the wire.
  const maxWire = opts.maxContentBytes * 2;

  /** Drops bytes up to the next `[` at or after `from`. */
  function resync(from: number): void {
    const next = buf.indexOf(OPEN, from);
    buf = next < 0 ? Buffer.alloc(0) : buf.subarray(next);
  }

  return {
    /** Feeds one TCP read; returns every complete frame (or refusal) it finished, in order. */
    push(chunk: Buffer): FrameResult[] {
      buf = buf.length === 0 ? Buffer.from(chunk) : Buffer.concat([buf, chunk]);
      const out: FrameResult[] = [];
      for (;;) {
        if (buf.length === 0) break;
        if (buf[0] !== OPEN) {
          out.push({ ok: false, reason: 'garbage' });
          resync(0);
          continue;
        }
        // The header is ASCII; latin1 maps bytes 1:1 so offsets stay byte offsets.
        const head = buf.subarray(0, HEADER_MAX).toString('latin1');
        const m = HEADER.exec(head);
        if (!m) {
          if (buf.length < HEADER_MAX && couldStillBeHeader(head)) break;
          out.push({ ok: false, reason: 'header' });
          resync(1);
          continue;
        }
        const [whole, maker, id, index, lenHex] = m as unknown as [string, string, string, string | undefined, string];
        const len = Number.parseInt(lenHex, 16);
        if (len > opts.maxContentBytes) {
          out.push({ ok: false, reason: 'too_large' });
          resync(1);
          continue;
        }
        // The frame ends at its `]` (as Traccar frames it): a miscounted LEN does not lose the frame.
        const end = buf.indexOf(CLOSE, whole.length);
        const nextOpen = buf.indexOf(OPEN, whole.length);
        if (nextOpen >= 0 && (end < 0 || nextOpen < end)) {
          // Another frame starts before this one ended: this one was cut off.
          out.push({ ok: false, reason: 'unterminated' });
          resync(nextOpen);
          continue;
        }
        if (end < 0) {
          if (buf.length - whole.length > maxWire) {
            out.push({ ok: false, reason: 'too_large' });
            resync(1);
            continue;
          }
          break;
        }
        const content = unescapeContent(buf.subarray(whole.length, end));
        buf = buf.subarray(end + 1);
        if (content === null) {
          out.push({ ok: false, reason: 'escape' });
          continue;
        }
        const text = content.toString('latin1');
        const comma = text.indexOf(',');
        out.push({
          ok: true,
          frame: {
            maker,
            id,
            index: index ?? null,
            keyword: comma < 0 ? text : text.slice(0, comma),
            body: comma < 0 ? '' : text.slice(comma + 1),
            lengthOk: content.length === len,
          },
        });
      }
      // Keep only the unfinished frame's bytes, not the whole chunk they were cut from.
      if (buf.length > 0 && buf.buffer.byteLength > buf.length * 2) buf = Buffer.from(buf);
      return out;
    },
    /** Bytes held waiting for the rest of a frame (bounded by one header plus the largest content). */
    buffered: () => buf.length,
  };
}

function unescapeContent(wire: Buffer): Buffer | null {
  if (!wire.includes(ESCAPE)) return wire;
  const out = Buffer.alloc(wire.length);
  let n = 0;
  for (let i = 0; i < wire.length; i += 1) {
    const b = wire[i] as number;
    if (b !== ESCAPE) {
      out[n++] = b;
      continue;
    }
    const code = wire[++i];
    if (code === undefined || code < 1 || code > 5) return null;
    out[n++] = UNESCAPED[code] as number;
  }
  return out.subarray(0, n);
}

/** Whether a short prefix may still grow into a valid header. */
function couldStillBeHeader(prefix: string): boolean {
  return /^\[(?:[0-9A-Z]{0,2}|[0-9A-Z]{2}\*[0-9A-Za-z]{0,20}|[0-9A-Z]{2}\*[0-9A-Za-z]{1,20}\*[0-9A-Fa-f*]{0,10})$/.test(prefix);
}

/** An answer frame in the device's own framing (maker, id and index echoed). */
export function encodeFrame(maker: string, id: string, index: string | null, content: string): string {
  const len = Buffer.byteLength(content, 'latin1').toString(16).toUpperCase().padStart(4, '0');
  return `[${maker}*${id}*${index ? `${index}*` : ''}${len}*${content}]`;
}

// Framing of the "watch" protocol (DESIGN.md 3.10, devices.md "GPS watches"):
// `[MF*<id>*<LEN>*<content>]` or, from some makers, `[MF*<id>*<IDX>*<LEN>*<content>]`, where LEN is
// the content's length in bytes as 4 hex digits. A streaming reader: TCP may split a frame across
// reads or put several in one; bytes that are not a frame are skipped up to the next `[` and
// reported. The buffer never holds more than one frame of the largest allowed size.

import { createStreamReader, skipTo, unescapeWith } from '../device-tcp/bytes.ts';

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
  // Escaped content may take up to twice its length on the wire.
  const maxWire = opts.maxContentBytes * 2;

  // The buffer never holds more than one header plus the largest content, escaped.
  return createStreamReader<FrameResult>(
    OPEN,
    () => ({ ok: false, reason: 'garbage' }),
    (buf, out) => {
      // The header is ASCII; latin1 maps bytes 1:1 so offsets stay byte offsets.
      const head = buf.subarray(0, HEADER_MAX).toString('latin1');
      const m = HEADER.exec(head);
      if (!m) {
        if (buf.length < HEADER_MAX && couldStillBeHeader(head)) return null;
        out.push({ ok: false, reason: 'header' });
        return skipTo(buf, OPEN, 1);
      }
      const [whole, maker, id, index, lenHex] = m as unknown as [string, string, string, string | undefined, string];
      const len = Number.parseInt(lenHex, 16);
      if (len > opts.maxContentBytes) {
        out.push({ ok: false, reason: 'too_large' });
        return skipTo(buf, OPEN, 1);
      }
      // The frame ends at its `]` (as Traccar frames it): a miscounted LEN does not lose the frame.
      const end = buf.indexOf(CLOSE, whole.length);
      const nextOpen = buf.indexOf(OPEN, whole.length);
      if (nextOpen >= 0 && (end < 0 || nextOpen < end)) {
        // Another frame starts before this one ended: this one was cut off.
        out.push({ ok: false, reason: 'unterminated' });
        return skipTo(buf, OPEN, nextOpen);
      }
      if (end < 0) {
        if (buf.length - whole.length > maxWire) {
          out.push({ ok: false, reason: 'too_large' });
          return skipTo(buf, OPEN, 1);
        }
        return null;
      }
      const content = unescapeContent(buf.subarray(whole.length, end));
      if (content === null) {
        out.push({ ok: false, reason: 'escape' });
        return buf.subarray(end + 1);
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
      return buf.subarray(end + 1);
    },
  );
}

function unescapeContent(wire: Buffer): Buffer | null {
  return unescapeWith(wire, ESCAPE, (code) => (code >= 1 && code <= 5 ? UNESCAPED[code] : undefined));
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

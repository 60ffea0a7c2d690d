// JT/T 808 framing (the Chinese road transport terminal protocol, 2013 and 2019 editions; Traccar
// calls it "jt808"/"huabao"): `0x7e <header> <body> <check> 0x7e`, with 0x7e inside escaped as
// 0x7d 0x02 and 0x7d as 0x7d 0x01, and a check code that XORs every byte between the delimiters.
// A streaming reader: TCP may split a frame across reads or put several in one; bytes outside a
// frame are skipped and reported. The buffer never holds more than one frame of the largest size
// the header's 10-bit body length allows.

import { createStreamReader, unescapeWith } from '../device-tcp/bytes.ts';

export const DELIMITER = 0x7e;
const ESCAPE = 0x7d;

/** The body length field has 10 bits. */
export const MAX_BODY_BYTES = 1023;
/** 2019 header (17 bytes) + subpackage fields (4) + body + check code. */
const MAX_FRAME_BYTES = 17 + 4 + MAX_BODY_BYTES + 1;

export interface Jt808Header {
  messageId: number;
  /** 2019 edition: its protocol version byte; null for the 2013 edition (6-byte phone number). */
  version: number | null;
  /** The terminal phone number field as sent (6 or 10 bytes), echoed in answers. */
  phoneRaw: Buffer;
  /** Who the terminal is: the phone number's BCD digits without leading zeros (or an IMEI, see decodePhone). */
  terminal: string;
  serial: number;
  /** Properties: bits 10-12 encryption (0 = none, bit 10 = RSA), bit 13 subpackaged. */
  encryption: number;
  subpackaged: boolean;
}

export interface Jt808Message {
  header: Jt808Header;
  body: Buffer;
}

export type BadFrameReason = 'garbage' | 'escape' | 'too_large' | 'short' | 'checksum' | 'length' | 'encrypted' | 'subpackage';
export type FrameResult =
  | { ok: true; message: Jt808Message }
  /** A frame refused; `header` when it was read (the listener may then answer "not supported"). */
  | { ok: false; reason: BadFrameReason; header?: Jt808Header };

/** XOR of every byte (the check code of what lies between the delimiters, check code excluded). */
export function checkCode(bytes: Buffer): number {
  let x = 0;
  for (const b of bytes) x ^= b;
  return x;
}

/** 0x7d 0x02 -> 0x7e, 0x7d 0x01 -> 0x7d; null for any other byte after 0x7d. */
export function unescapeBytes(wire: Buffer): Buffer | null {
  return unescapeWith(wire, ESCAPE, (code) => (code === 0x01 ? ESCAPE : code === 0x02 ? DELIMITER : undefined));
}

export function escapeBytes(raw: Buffer): Buffer {
  let extra = 0;
  for (const b of raw) if (b === DELIMITER || b === ESCAPE) extra += 1;
  if (extra === 0) return raw;
  const out = Buffer.alloc(raw.length + extra);
  let n = 0;
  for (const b of raw) {
    if (b === DELIMITER || b === ESCAPE) {
      out[n++] = ESCAPE;
      out[n++] = b === DELIMITER ? 0x02 : 0x01;
    } else out[n++] = b;
  }
  return out;
}

/**
 * The terminal phone number field as an id: BCD digits without leading zeros. A field that is
 * not BCD (some trackers put their IMEI there as a 48-bit number, as Traccar reads it) is that
 * number followed by its Luhn check digit, the IMEI's 15 digits.
 */
export function decodePhone(raw: Buffer): string {
  const hex = raw.toString('hex');
  if (/^[0-9]+$/.test(hex)) return hex.replace(/^0+(?=.)/, '');
  if (raw.length !== 6) return hex;
  const n = raw.readUIntBE(0, 6);
  return `${n}${luhn(String(n))}`;
}

function luhn(digits: string): number {
  let sum = 0;
  for (let i = 0; i < digits.length; i += 1) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return (10 - (sum % 10)) % 10;
}

/** A BCD phone number field of `bytes` bytes for a string of digits (the simulator, tests). */
export function encodePhone(digits: string, bytes = 6): Buffer {
  if (!/^[0-9]+$/.test(digits) || digits.length > bytes * 2) throw new Error(`phone number "${digits}" does not fit ${bytes} BCD bytes`);
  return Buffer.from(digits.padStart(bytes * 2, '0'), 'hex');
}

/** Reads one unescaped frame (delimiters removed): header, body, check code. */
export function parseFrame(raw: Buffer): FrameResult {
  if (raw.length < 13) return { ok: false, reason: 'short' };
  if (checkCode(raw.subarray(0, raw.length - 1)) !== raw[raw.length - 1]) return { ok: false, reason: 'checksum' };
  const messageId = raw.readUInt16BE(0);
  const props = raw.readUInt16BE(2);
  const bodyLength = props & 0x3ff;
  const encryption = (props >> 10) & 0x7;
  const subpackaged = (props & 0x2000) !== 0;
  const is2019 = (props & 0x4000) !== 0;
  let at = 4;
  const version = is2019 ? (raw[at++] as number) : null;
  const phoneLength = is2019 ? 10 : 6;
  if (raw.length < at + phoneLength + 2 + 1) return { ok: false, reason: 'short' };
  const phoneRaw = Buffer.from(raw.subarray(at, at + phoneLength));
  at += phoneLength;
  const serial = raw.readUInt16BE(at);
  at += 2;
  const header: Jt808Header = { messageId, version, phoneRaw, terminal: decodePhone(phoneRaw), serial, encryption, subpackaged };
  if (subpackaged) return { ok: false, reason: 'subpackage', header };
  if (encryption !== 0) return { ok: false, reason: 'encrypted', header };
  if (raw.length - 1 - at !== bodyLength) return { ok: false, reason: 'length', header };
  return { ok: true, message: { header, body: Buffer.from(raw.subarray(at, at + bodyLength)) } };
}

/** A frame ready for the wire: header (same edition and phone field as the terminal's), body, check code, escaped, delimited. */
export function encodeFrame(messageId: number, header: Pick<Jt808Header, 'version' | 'phoneRaw'>, serial: number, body: Buffer): Buffer {
  if (body.length > MAX_BODY_BYTES) throw new Error('JT/T 808 body over 1023 bytes needs subpackaging');
  const is2019 = header.version !== null;
  const head = Buffer.alloc(4 + (is2019 ? 1 : 0));
  head.writeUInt16BE(messageId, 0);
  head.writeUInt16BE(body.length | (is2019 ? 0x4000 : 0), 2);
  if (is2019) head[4] = header.version as number;
  const sn = Buffer.alloc(2);
  sn.writeUInt16BE(serial & 0xffff, 0);
  const raw = Buffer.concat([head, header.phoneRaw, sn, body]);
  const withCheck = Buffer.concat([raw, Buffer.from([checkCode(raw)])]);
  return Buffer.concat([Buffer.from([DELIMITER]), escapeBytes(withCheck), Buffer.from([DELIMITER])]);
}

export function createFrameReader() {
  // Every byte may be escaped: a frame takes at most twice its size on the wire, plus delimiters.
  const maxWire = MAX_FRAME_BYTES * 2 + 2;

  // The buffer never holds more than the largest frame, escaped.
  return createStreamReader<FrameResult>(
    DELIMITER,
    () => ({ ok: false, reason: 'garbage' }),
    (buf, out) => {
      const end = buf.indexOf(DELIMITER, 1);
      if (end < 0) {
        if (buf.length <= maxWire) return null;
        out.push({ ok: false, reason: 'too_large' });
        return Buffer.alloc(0);
      }
      // Two delimiters in a row: the first closed a frame whose start was lost (or is padding).
      if (end === 1) return buf.subarray(1);
      const wire = buf.subarray(1, end);
      const rest = buf.subarray(end + 1);
      if (wire.length > maxWire) {
        out.push({ ok: false, reason: 'too_large' });
        return rest;
      }
      const raw = unescapeBytes(wire);
      if (raw === null) {
        out.push({ ok: false, reason: 'escape' });
        return rest;
      }
      out.push(raw.length > MAX_FRAME_BYTES ? { ok: false, reason: 'too_large' } : parseFrame(raw));
      return rest;
    },
  );
}

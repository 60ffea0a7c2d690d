// What a JT/T 808 message body means, for the messages a GPS elder watch or pendant sends (the
// field layout follows JT/T 808-2013 and 2019, cross-checked against Traccar's Jt808ProtocolDecoder
// and its test frames). Pure: bytes in, a message out, or null for a body too short for its fields.
// Positions are checked here (ranges, date) so nothing past this point sees an impossible one.

export const MSG = {
  terminalAck: 0x0001,
  heartbeat: 0x0002,
  logout: 0x0003,
  register: 0x0100,
  auth: 0x0102,
  location: 0x0200,
  batch: 0x0704,
  platformAck: 0x8001,
  registerAck: 0x8100,
} as const;

/** 0x8001 results: 0 success, 1 failure, 2 message error, 3 not supported. */
export const RESULT = { ok: 0, failure: 1, bad: 2, unsupported: 3 } as const;
/** 0x8100 results: 0 success, 4 terminal not in the database (the others concern vehicles). */
export const REGISTER_RESULT = { ok: 0, unknownTerminal: 4 } as const;

export interface Jt808Position {
  /** When the terminal took it (BCD YYMMDDhhmmss in Beijing time, GMT+8, as UTC); null when unusable. */
  at: string | null;
  /** Status bit 1: positioned. A fix at exactly 0,0 is taken for none. */
  valid: boolean;
  latitude: number;
  longitude: number;
  speedKmh: number;
  /** Battery in percent from a vendor item (0x06, 0xE3 or 0xE4 as Traccar reads them); null when none. */
  battery: number | null;
  /** Item 0x01, in km. */
  mileageKm: number | null;
  alarm: number;
  status: number;
  flags: AlarmFlags;
}

export interface AlarmFlags {
  sos: boolean;
  fall: boolean;
  lowBattery: boolean;
}

const bit = (word: number, n: number) => ((word >>> n) & 1) === 1;

/**
 * Alarm flag bits (JT/T 808 table 24): bit 0 emergency alarm (the SOS key), bit 7 main power
 * under-voltage (a wearable's low battery). A fall has no bit of its own: elder wearables report it
 * on bit 29 or 30 (collision / rollover warning, from the same accelerometer), which Traccar reads
 * as an accident alarm.
 */
export function alarmFlags(alarm: number): AlarmFlags {
  return { sos: bit(alarm, 0), fall: bit(alarm, 29) || bit(alarm, 30), lowBattery: bit(alarm, 7) };
}

/** Location basic information (28 bytes) and additional items (id, length, value). */
export function decodeLocation(body: Buffer): Jt808Position | null {
  if (body.length < 28) return null;
  const alarm = body.readUInt32BE(0);
  const status = body.readUInt32BE(4);
  const la = body.readUInt32BE(8) / 1e6;
  const lo = body.readUInt32BE(12) / 1e6;
  if (la > 90 || lo > 180) return null;
  const speedKmh = body.readUInt16BE(18) / 10;
  const at = bcdTime(body.subarray(22, 28));
  let battery: number | null = null;
  let mileageKm: number | null = null;
  // Additional items; a malformed tail ends the reading, the basic fields stand.
  for (let i = 28; i + 2 <= body.length; ) {
    const id = body[i] as number;
    const len = body[i + 1] as number;
    const v = body.subarray(i + 2, i + 2 + len);
    if (v.length < len) break;
    i += 2 + len;
    if (id === 0x01 && len === 4) mileageKm = v.readUInt32BE(0) / 10;
    else if (id === 0x06 && len === 1) battery = percent(v[0] as number);
    else if (id === 0xe4 && len === 2) battery = percent(v[1] as number);
    else if (id === 0xe3 && len >= 2) battery = percent(v[1] as number);
  }
  return {
    at,
    valid: bit(status, 1) && !(la === 0 && lo === 0),
    latitude: bit(status, 2) ? -la : la,
    longitude: bit(status, 3) ? -lo : lo,
    speedKmh,
    battery,
    mileageKm,
    alarm,
    status,
    flags: alarmFlags(alarm),
  };
}

/** 0x0704: count, type (0 regular, 1 blind-area resend), then each location with its length. */
export function decodeBatch(body: Buffer): { positions: Jt808Position[]; blindArea: boolean } | null {
  if (body.length < 3) return null;
  const count = body.readUInt16BE(0);
  const positions: Jt808Position[] = [];
  let i = 3;
  for (let n = 0; n < count; n += 1) {
    if (i + 2 > body.length) return null;
    const len = body.readUInt16BE(i);
    const item = body.subarray(i + 2, i + 2 + len);
    if (item.length < len) return null;
    i += 2 + len;
    const p = decodeLocation(item);
    if (p) positions.push(p);
  }
  return { positions, blindArea: body[2] === 1 };
}

export interface Registration {
  province: number;
  city: number;
  maker: string;
  model: string;
  /** The terminal id in the body (7 bytes in 2013, 30 in 2019): logged, not used as identity. */
  terminalId: string;
}

/** 0x0100 body: province, city, maker (5 / 11 bytes), model (20 / 30), terminal id (7 / 30), plate colour, plate. */
export function decodeRegistration(body: Buffer, is2019: boolean): Registration | null {
  const [maker, model, id] = is2019 ? [11, 30, 30] : [5, 20, 7];
  if (body.length < 4 + maker + model + id) return null;
  const text = (b: Buffer) =>
    b
      .toString('latin1')
      .replace(/\0+$/g, '')
      .replace(/[^\x20-\x7e]/g, '?')
      .trim();
  return {
    province: body.readUInt16BE(0),
    city: body.readUInt16BE(2),
    maker: text(body.subarray(4, 4 + maker)),
    model: text(body.subarray(4 + maker, 4 + maker + model)),
    terminalId: text(body.subarray(4 + maker + model, 4 + maker + model + id)),
  };
}

/** 0x8001: the serial and id of the message answered, and a result. */
export function platformAck(serial: number, messageId: number, result: number): Buffer {
  const b = Buffer.alloc(5);
  b.writeUInt16BE(serial, 0);
  b.writeUInt16BE(messageId, 2);
  b[4] = result;
  return b;
}

/** 0x8100: the registration's serial, a result, and on success the authentication code. */
export function registerAck(serial: number, result: number, authCode: string): Buffer {
  const head = Buffer.alloc(3);
  head.writeUInt16BE(serial, 0);
  head[2] = result;
  return result === REGISTER_RESULT.ok ? Buffer.concat([head, Buffer.from(authCode, 'latin1')]) : head;
}

function percent(n: number): number | null {
  return n <= 100 ? n : null;
}

/** BCD YYMMDDhhmmss in GMT+8 as ISO 8601 (UTC); null for a field that is not a real date. */
export function bcdTime(b: Buffer): string | null {
  const hex = b.toString('hex');
  if (!/^\d{12}$/.test(hex)) return null;
  const [y, mo, d, h, mi, s] = [0, 2, 4, 6, 8, 10].map((i) => Number(hex.slice(i, i + 2))) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const local = Date.UTC(2000 + y, mo - 1, d, h, mi, s);
  const back = new Date(local);
  if (back.getUTCDate() !== d || back.getUTCMonth() !== mo - 1 || back.getUTCHours() !== h || back.getUTCMinutes() !== mi || y < 20)
    return null;
  return new Date(local - 8 * 3600_000).toISOString();
}

/** A time as the BCD field (GMT+8): the simulator and tests. */
export function encodeBcdTime(ms: number): Buffer {
  const d = new Date(ms + 8 * 3600_000);
  const two = (n: number) => String(n).padStart(2, '0');
  return Buffer.from(
    `${two(d.getUTCFullYear() % 100)}${two(d.getUTCMonth() + 1)}${two(d.getUTCDate())}${two(d.getUTCHours())}${two(d.getUTCMinutes())}${two(d.getUTCSeconds())}`,
    'hex',
  );
}

/** A location body (basic fields, then battery as item 0x06): the simulator and tests. */
export function encodeLocation(p: {
  at: number;
  lat: number;
  lon: number;
  valid?: boolean;
  speedKmh?: number;
  battery?: number;
  alarm?: number;
  mileageKm?: number;
}): Buffer {
  const b = Buffer.alloc(28);
  b.writeUInt32BE((p.alarm ?? 0) >>> 0, 0);
  const status = (p.valid === false ? 0 : 0b10) | (p.lat < 0 ? 0b100 : 0) | (p.lon < 0 ? 0b1000 : 0);
  b.writeUInt32BE(status, 4);
  b.writeUInt32BE(Math.round(Math.abs(p.lat) * 1e6), 8);
  b.writeUInt32BE(Math.round(Math.abs(p.lon) * 1e6), 12);
  b.writeUInt16BE(Math.round((p.speedKmh ?? 0) * 10), 18);
  encodeBcdTime(p.at).copy(b, 22);
  const items: Buffer[] = [];
  if (p.mileageKm !== undefined) {
    const m = Buffer.from([0x01, 4, 0, 0, 0, 0]);
    m.writeUInt32BE(Math.round(p.mileageKm * 10), 2);
    items.push(m);
  }
  if (p.battery !== undefined) items.push(Buffer.from([0x06, 1, Math.round(p.battery)]));
  return Buffer.concat([b, ...items]);
}

/** Alarm flag words for the simulator and tests. */
export const ALARM = { none: 0, sos: 1, fall: 1 << 29, lowBattery: 1 << 7 } as const;

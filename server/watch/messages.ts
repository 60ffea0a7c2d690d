// What a watch frame's content means (devices.md "GPS watches"; the field order follows Traccar's
// WatchProtocolDecoder and its test frames). Pure: a frame in, a message out, or null for content
// this server does not use. Positions are checked here (ranges, date) so nothing past this point
// sees an impossible coordinate.
import type { WatchFrame } from './frames.ts';

export interface WatchPosition {
  /** When the watch took it (its own clock, UTC); null when its date/time fields are unusable. */
  at: string | null;
  /** `A`: a GPS fix; `V`: not valid (the last fix or none; never judged against a geofence). */
  valid: boolean;
  latitude: number;
  longitude: number;
  speedKmh: number | null;
  battery: number | null;
  /** The status word (hex field): alarm flags, bit 0 = least significant. */
  status: number;
}

export type WatchMessage =
  | { kind: 'link'; battery: number | null }
  | { kind: 'position'; alarm: boolean; position: WatchPosition; flags: StatusFlags }
  | { kind: 'vitals'; heartRate: number | null; systolic: number | null; diastolic: number | null };

export interface StatusFlags {
  sos: boolean;
  fall: boolean;
  lowBattery: boolean;
  removed: boolean;
}

// Status bits (devices.md; Traccar's decodeAlarm): 16 SOS, 21 and 22 fall, 0 and 17 low battery, 20 taken off.
const bit = (status: number, n: number) => Math.floor(status / 2 ** n) % 2 === 1;
export function statusFlags(status: number): StatusFlags {
  return {
    sos: bit(status, 16),
    fall: bit(status, 21) || bit(status, 22),
    lowBattery: bit(status, 0) || bit(status, 17),
    removed: bit(status, 20),
  };
}

const POSITION_KEYWORDS = /^(UD|UD2|UD3|UD_LTE|UD_WCDMA|AL|AL_LTE|ALCUSTOMER1|WT)$/;

export function decodeMessage(frame: WatchFrame): WatchMessage | null {
  const kw = frame.keyword.toUpperCase();
  if (kw === 'LK') {
    // `LK` or `LK,<steps>,<rolls>,<battery %>`
    const f = frame.body.split(',');
    return { kind: 'link', battery: f.length >= 3 ? percent(f[2]) : null };
  }
  if (POSITION_KEYWORDS.test(kw)) {
    const position = decodePosition(frame.body);
    if (!position) return null;
    return { kind: 'position', alarm: kw.startsWith('AL'), position, flags: statusFlags(position.status) };
  }
  if (kw === 'HEART' || kw === 'BLOOD' || kw === 'BPHRT') {
    const f = frame.body.split(',').map((x) => x.trim());
    const num = (s: string | undefined, lo: number, hi: number) => {
      const n = s === undefined || s === '' ? Number.NaN : Number(s);
      return Number.isFinite(n) && n >= lo && n <= hi ? n : null;
    };
    if (kw === 'HEART') return { kind: 'vitals', heartRate: num(f[0], 20, 250), systolic: null, diastolic: null };
    return {
      kind: 'vitals',
      systolic: num(f[0], 40, 300),
      diastolic: num(f[1], 20, 200),
      heartRate: kw === 'BPHRT' ? num(f[2], 20, 250) : null,
    };
  }
  return null;
}

/**
 * `<ddmmyy>,<hhmmss>,<A|V>,<lat>,<N|S>,<lon>,<E|W>,<speed km/h>,<course>,<altitude>,<satellites>,
 * <rssi>,<battery %>,<steps>,<rolls>,<status hex>,<cells and wifi ...>`
 */
export function decodePosition(body: string): WatchPosition | null {
  const f = body.split(',').map((x) => x.trim());
  if (f.length < 16) return null;
  const [date, time, validity, lat, ns, lon, ew, speed] = f as [string, string, string, string, string, string, string, string];
  if (validity !== 'A' && validity !== 'V') return null;
  if ((ns !== 'N' && ns !== 'S') || (ew !== 'E' && ew !== 'W' && ew !== '')) return null;
  const la = decimal(lat);
  const lo = decimal(lon);
  if (la === null || lo === null || Math.abs(la) > 90 || Math.abs(lo) > 180) return null;
  const statusText = f[15] as string;
  if (!/^[0-9A-Fa-f]{1,8}$/.test(statusText)) return null;
  const sp = decimal(speed);
  return {
    at: watchTime(date, time),
    // A fix at exactly 0,0 is a watch saying "no fix" with an `A`.
    valid: validity === 'A' && !(la === 0 && lo === 0),
    latitude: ns === 'S' ? -Math.abs(la) : la,
    longitude: ew === 'W' ? -Math.abs(lo) : lo,
    speedKmh: sp !== null && sp >= 0 && sp < 1000 ? sp : null,
    battery: percent(f[12]),
    status: Number.parseInt(statusText, 16),
  };
}

function decimal(s: string | undefined): number | null {
  if (s === undefined || !/^-?\d{1,3}(\.\d{1,10})?$/.test(s)) return null;
  return Number(s);
}

function percent(s: string | undefined): number | null {
  if (s === undefined || !/^\d{1,3}$/.test(s.trim())) return null;
  const n = Number(s);
  return n <= 100 ? n : null;
}

/** ddmmyy + hhmmss (UTC) as ISO 8601, or null for a date the watch has not set (000000, 010180...). */
export function watchTime(date: string, time: string): string | null {
  if (!/^\d{6}$/.test(date) || !/^\d{6}$/.test(time)) return null;
  const [d, mo, y, h, mi, s] = [
    date.slice(0, 2),
    date.slice(2, 4),
    date.slice(4, 6),
    time.slice(0, 2),
    time.slice(2, 4),
    time.slice(4, 6),
  ].map(Number) as [number, number, number, number, number, number];
  const ms = Date.UTC(2000 + y, mo - 1, d, h, mi, s);
  const back = new Date(ms);
  // Date.UTC rolls 32/13 over into the next month: a field out of range gives another date back.
  if (back.getUTCDate() !== d || back.getUTCMonth() !== mo - 1 || back.getUTCHours() !== h || back.getUTCMinutes() !== mi || y < 20)
    return null;
  return back.toISOString();
}

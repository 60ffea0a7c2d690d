// Seeed 60 GHz radars on a serial port, in both protocol families (devices.md sections 1 and 2):
// frames become canonical events and readings. The code tables are firmware-dependent data, one per
// family; what a decoded signal means for the care domain (a fall, a bed exit, a vital sign) is
// decided once, in `interpret`, for both families.
import type { EventType } from '../../protocol/index.ts';
import type { SerialEntry } from '../config.ts';
import { type FrameRejection, type Seeed5359Frame, Seeed5359Parser } from '../parsers/seeed-5359.ts';
import { type SeeedSofFrame, SeeedSofParser } from '../parsers/seeed-sof.ts';
import { portDeviceId, type SerialProtocol } from './serial.ts';
import type { AdapterSink } from './types.ts';

type Signal = 'alive' | 'presence' | 'motion' | 'fall' | 'dwell' | 'bed' | 'heart_rate' | 'resp_rate' | 'sleep_state' | 'sleep_score';

interface RadarCode {
  signal: Signal;
  /** Decodes the frame's data; undefined when it is too short to hold the value. */
  read: (data: Buffer) => number | undefined;
}

const byte = (d: Buffer) => (d.length >= 1 ? d[0] : undefined);
const anyNonZero = (d: Buffer) => (d.length >= 1 ? (d.some((b) => b !== 0) ? 1 : 0) : undefined);
const float32le = (d: Buffer) => (d.length >= 4 ? d.readFloatLE(0) : undefined);

/**
 * `53 59` family, keyed `ctrl/cmd` in hex (limengdu/Seeed-Studio-MR60FDA1-Sersor and
 * -MR60BHA1-Sensor). Query replies carry `cmd | 0x80` and are looked up without that bit. Heart and
 * breath codes moved between library versions: when a firmware differs, this table is what changes.
 */
export const SEEED_5359_CODES: Readonly<Record<string, RadarCode>> = {
  '01/01': { signal: 'alive', read: byte }, // heartbeat, every minute by default
  '80/01': { signal: 'presence', read: byte }, // 00 nobody, 01 someone
  '80/02': { signal: 'motion', read: byte }, // 00 none, 01 stationary, 02 moving
  '81/02': { signal: 'resp_rate', read: byte }, // breaths per minute
  '83/01': { signal: 'fall', read: byte }, // 00 no fall, 01 fall (MR60FDA1)
  '83/05': { signal: 'dwell', read: byte }, // 00 none, 01 stationary dwelling
  '84/01': { signal: 'bed', read: byte }, // 00 out of bed, 01 in bed, 02 none (MR60BHA1)
  // Sleep group (MR60BHA1, limengdu/Seeed-Studio-MR60BHA1-Sensor 60ghzbreathheart.h): state
  // 00 deep, 01 light, 02 awake, 03 none; quality score one byte 0-100. The radar's own awake /
  // light / deep minutes (84/03-05, u16 BE) and integrated reports (84/0C-0E) are not used: the
  // server sums the night from the state changes.
  '84/02': { signal: 'sleep_state', read: byte },
  '84/06': { signal: 'sleep_score', read: byte },
  '85/02': { signal: 'heart_rate', read: byte }, // beats per minute
};

/** `01`-SOF family, keyed by frame type (esphome seeed_mr60fda2 / seeed_mr60bha2). */
export const SEEED_SOF_CODES: Readonly<Record<number, RadarCode>> = {
  3586: { signal: 'fall', read: byte }, // 0 no fall, 1 fall (MR60FDA2)
  // FDA2 reads data[0], BHA2 a u16 LE: any non-zero byte means someone is there in both.
  3849: { signal: 'presence', read: anyNonZero },
  2580: { signal: 'resp_rate', read: float32le },
  2581: { signal: 'heart_rate', read: float32le },
};

/** Values a signal may take; anything else is a frame we do not understand and is dropped. */
const ENUMS: Partial<Record<Signal, readonly number[]>> = {
  presence: [0, 1],
  motion: [0, 1, 2],
  fall: [0, 1],
  dwell: [0, 1],
  bed: [0, 1, 2],
  sleep_state: [0, 1, 2, 3],
};
const SLEEP_STATES = ['deep', 'light', 'awake'] as const;
// Radars report 0 while they have no lock; values outside these ranges are not a living adult's
// and must not reach the vital-sign rules as if they were.
const VITAL_RANGES = { heart_rate: [20, 250], resp_rate: [2, 80] } as const;
const MOTION = ['none', 'stationary', 'moving'] as const;

interface RadarState {
  /** When the fall now in progress was last raised; undefined when no fall is in progress. */
  fallRaisedAt?: number;
  inBed?: boolean;
  motion?: number;
  dwelling?: boolean;
  sleep?: 'deep' | 'light' | 'awake';
}

export interface SeeedProtocolOptions {
  now?: () => number;
  /**
   * A fall that is still reported this long after it was raised is raised again. Until then repeats
   * are suppressed: the radar re-reports its state, and every event costs a durable outbox write and
   * an uplink message. The server would merge repeats into the open alarm anyway, but after a
   * caregiver has resolved it, a person still on the floor must not go silent; nor may a radar that
   * restarted without ever reporting 'no fall' mask the next fall for good.
   */
  refallAfterMs?: number;
}

function createRadarInterpreter(source: string, opts: SeeedProtocolOptions) {
  const now = opts.now ?? Date.now;
  const refallAfterMs = opts.refallAfterMs ?? 5 * 60_000;
  // Keyed by the config entry, so two gateways in one process (tests) never share a radar's state.
  // A port that reconnects keeps it: a fall raised before the drop is not raised again after it.
  const states = new WeakMap<SerialEntry, RadarState>();

  return function interpret(code: RadarCode | undefined, data: Buffer, entry: SerialEntry, sink: AdapterSink, what: string) {
    const device = entry.device ?? portDeviceId(entry);
    sink.seen(device);
    // Product info, distance, parameters...: a valid frame we have no use for.
    if (!code) return;
    const value = code.read(data);
    if (value === undefined) return sink.rejected(entry.path, `${source} ${what}: ${data.length} data bytes are too few`);
    const allowed = ENUMS[code.signal];
    if (allowed && !allowed.includes(value)) return sink.rejected(entry.path, `${source} ${what}: unknown ${code.signal} value ${value}`);

    let state = states.get(entry);
    if (!state) {
      state = {};
      states.set(entry, state);
    }
    const emit = (type: EventType, eventData: Record<string, unknown> = {}) => sink.event({ device, type, data: { source, ...eventData } });

    switch (code.signal) {
      case 'alive':
        return;
      case 'presence':
        return sink.reading({ device, metric: 'presence', value });
      case 'motion':
        state.motion = value;
        sink.motion?.(device, value === 2);
        return;
      case 'dwell':
        state.dwelling = value === 1;
        return;
      case 'fall': {
        if (value === 0) {
          state.fallRaisedAt = undefined;
          return;
        }
        const t = now();
        if (state.fallRaisedAt !== undefined && t - state.fallRaisedAt < refallAfterMs) return;
        // What the radar knew just before: lying still after a fall is the more urgent case.
        emit('fall', {
          ...(state.motion !== undefined ? { motion: MOTION[state.motion] } : {}),
          ...(state.dwelling !== undefined ? { stationary: state.dwelling } : {}),
          // Raised again because the radar still reports it (see refallAfterMs).
          ...(state.fallRaisedAt !== undefined ? { ongoing: true } : {}),
        });
        // Only after the event is accepted: if the outbox refused it, the next report tries again.
        state.fallRaisedAt = t;
        return;
      }
      case 'bed': {
        // Only a change seen from a known state is an exit or a return; 02 (none) tells us neither.
        // A first report of 'out' is no exit (we never saw the resident in bed: the gateway may have
        // restarted mid-exit), but the return from it is a bed return, so an exit alarm raised
        // before a restart is still cleared.
        if (value === 2) return;
        const inBed = value === 1;
        if (state.inBed === true && !inBed) emit('bed_exit');
        else if (state.inBed === false && inBed) emit('bed_return');
        state.inBed = inBed;
        return;
      }
      case 'sleep_state': {
        // 03 (none) says nothing; a state is sent when it changes, not at every report.
        const sleep = SLEEP_STATES[value];
        if (sleep === undefined || state.sleep === sleep) return;
        state.sleep = sleep;
        emit('sleep_state', { state: sleep });
        return;
      }
      case 'sleep_score':
        if (value > 100) return sink.rejected(entry.path, `${source} ${what}: sleep score ${value} over 100`);
        return sink.reading({ device, metric: 'sleep_score', value });
      case 'heart_rate':
      case 'resp_rate': {
        const [min, max] = VITAL_RANGES[code.signal];
        if (!Number.isFinite(value) || value < min || value > max)
          return sink.rejected(entry.path, `${source} ${what}: implausible ${code.signal} ${value}`);
        return sink.reading({ device, metric: code.signal, value: Math.round(value * 10) / 10 });
      }
    }
  };
}

const hex2 = (n: number) => n.toString(16).padStart(2, '0').toUpperCase();
const isRejection = (m: unknown): m is FrameRejection => typeof m === 'object' && m !== null && 'rejected' in m;

export function createSeeed5359Protocol(opts: SeeedProtocolOptions = {}): SerialProtocol {
  const interpret = createRadarInterpreter('seeed-5359', opts);
  return {
    createParser: () => new Seeed5359Parser({ reportRejects: true }),
    handle(message, entry, sink) {
      if (isRejection(message)) return sink.rejected(entry.path, message.rejected);
      const f = message as Seeed5359Frame;
      const key = `${hex2(f.control)}/${hex2(f.command & 0x7f)}`;
      interpret(SEEED_5359_CODES[key], f.data, entry, sink, key);
    },
  };
}

export function createSeeedSofProtocol(opts: SeeedProtocolOptions = {}): SerialProtocol {
  const interpret = createRadarInterpreter('seeed-sof', opts);
  return {
    createParser: () => new SeeedSofParser({ reportRejects: true }),
    handle(message, entry, sink) {
      if (isRejection(message)) return sink.rejected(entry.path, message.rejected);
      const f = message as SeeedSofFrame;
      interpret(SEEED_SOF_CODES[f.type], f.data, entry, sink, `type ${f.type.toString(16).padStart(4, '0').toUpperCase()}`);
    },
  };
}

export const seeed5359Protocol = createSeeed5359Protocol();
export const seeedSofProtocol = createSeeedSofProtocol();

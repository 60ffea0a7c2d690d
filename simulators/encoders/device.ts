// A simulated device's wire: turns what the device should say (heartbeat, vitals, an event, a
// reading) into the bytes of its real protocol. A radar port carries one device; an NDJSON port
// carries many, each line naming its own.
import type { EventType, Metric } from '../../protocol/index.ts';
import { ndjsonEvent, ndjsonReading } from './ndjson.ts';
import { seeed5359 } from './seeed5359.ts';
import { seeedSof } from './seeedSof.ts';

export const WIRE_PROTOCOLS = ['seeed-5359', 'seeed-sof', 'ndjson'] as const;
export type WireProtocol = (typeof WIRE_PROTOCOLS)[number];

export class UnsupportedOnWire extends Error {}

export interface WireDevice {
  readonly protocol: WireProtocol;
  /** The keep-alive the device sends on its own (53 59 heartbeat; SOF has none, so presence). */
  heartbeat(): Buffer[];
  vitals(heartRate: number, breathingRate: number): Buffer[];
  event(type: EventType, opts?: { device?: string; data?: Record<string, unknown>; ts?: string }): Buffer[];
  reading(metric: Metric, value: number, opts?: { device?: string; ts?: string }): Buffer[];
}

export function isWireProtocol(p: string): p is WireProtocol {
  return (WIRE_PROTOCOLS as readonly string[]).includes(p);
}

export function createWireDevice(protocol: WireProtocol, device: string): WireDevice {
  if (protocol === 'ndjson') return ndjsonDevice(device);
  if (protocol === 'seeed-5359') return radar5359(device);
  return radarSof(device);
}

function ndjsonDevice(defaultDevice: string): WireDevice {
  const line = (s: string) => [Buffer.from(s, 'utf8')];
  return {
    protocol: 'ndjson',
    heartbeat: () => [],
    vitals: (hr, br) => [...line(ndjsonReading(defaultDevice, 'heart_rate', hr)), ...line(ndjsonReading(defaultDevice, 'resp_rate', br))],
    event: (type, o = {}) => line(ndjsonEvent(o.device ?? defaultDevice, type, o.data, o.ts)),
    reading: (metric, value, o = {}) => line(ndjsonReading(o.device ?? defaultDevice, metric, value, o.ts)),
  };
}

function radarOnly(device: string, o: { device?: string }) {
  if (o.device && o.device !== device) {
    throw new UnsupportedOnWire(`a radar port carries only its own device (${device}), not ${o.device}`);
  }
}

/** MR60BHA1 sleep-state codes (84/02). */
const SLEEP_CODES: Record<string, 0 | 1 | 2> = { deep: 0, light: 1, awake: 2 };

function radar5359(device: string): WireDevice {
  return {
    protocol: 'seeed-5359',
    heartbeat: () => [seeed5359.heartbeat()],
    vitals: (hr, br) => [seeed5359.heartRate(hr), seeed5359.breathingRate(br)],
    event(type, o = {}) {
      radarOnly(device, o);
      switch (type) {
        case 'fall':
          return [seeed5359.fall(true)];
        case 'presence':
          return [seeed5359.presence(true)];
        case 'bed_exit':
          return [seeed5359.bed(0)];
        case 'bed_return':
          return [seeed5359.bed(1)];
        case 'sleep_state': {
          const state = SLEEP_CODES[String(o.data?.state)];
          if (state === undefined) throw new UnsupportedOnWire('a sleep_state event needs data.state: deep, light or awake');
          return [seeed5359.sleepState(state)];
        }
        default:
          throw new UnsupportedOnWire(
            `seeed-5359 radars have no frame for a ${type} event (fall, presence, bed_exit, bed_return, sleep_state)`,
          );
      }
    },
    reading(metric, value, o = {}) {
      radarOnly(device, o);
      if (metric === 'heart_rate') return [seeed5359.heartRate(value)];
      if (metric === 'resp_rate') return [seeed5359.breathingRate(value)];
      if (metric === 'presence') return [seeed5359.presence(value !== 0)];
      if (metric === 'sleep_score') return [seeed5359.sleepScore(value)];
      throw new UnsupportedOnWire(`seeed-5359 radars report heart_rate, resp_rate, presence and sleep_score, not ${metric}`);
    },
  };
}

function radarSof(device: string): WireDevice {
  let frameId = 0;
  const next = () => {
    frameId = (frameId + 1) & 0xffff;
    return frameId;
  };
  return {
    protocol: 'seeed-sof',
    heartbeat: () => [seeedSof.presence(true, next())],
    vitals: (hr, br) => [seeedSof.heartRate(hr, next()), seeedSof.breathingRate(br, next())],
    event(type, o = {}) {
      radarOnly(device, o);
      if (type === 'fall') return [seeedSof.fall(true, next())];
      if (type === 'presence') return [seeedSof.presence(true, next())];
      throw new UnsupportedOnWire(`seeed-sof radars have no frame for a ${type} event (fall, presence)`);
    },
    reading(metric, value, o = {}) {
      radarOnly(device, o);
      if (metric === 'heart_rate') return [seeedSof.heartRate(value, next())];
      if (metric === 'resp_rate') return [seeedSof.breathingRate(value, next())];
      if (metric === 'presence') return [seeedSof.presence(value !== 0, next())];
      throw new UnsupportedOnWire(`seeed-sof radars report heart_rate, resp_rate and presence, not ${metric}`);
    },
  };
}

/** After a fall report, radars report "no fall" once the person is up again. */
export function fallCleared(protocol: WireProtocol): Buffer[] {
  if (protocol === 'seeed-5359') return [seeed5359.fall(false)];
  if (protocol === 'seeed-sof') return [seeedSof.fall(false)];
  return [];
}

// Reads one telemetry batch off the wire, in the telemetry worker: JSON parse and schema check,
// the device of each reading (refusing readings that name another gateway's device), the row
// to store, and the alarm rules that watch readings (vitals, low battery). Only what the alarm
// engine needs goes back to the main thread: alarm requests, devices heard, counts.
import { createDecoder, TelemetryBatch } from '../../protocol/index.ts';
import { evaluateBattery } from '../alarms/low-battery.ts';
import type { AlarmRequest } from '../alarms/rules.ts';
import { type EffectiveSettings, effectiveSettings } from '../alarms/settings.ts';
import { createVitalsTracker, DEFAULT_VITAL_LIMITS, vitalMode } from '../alarms/vitals.ts';
import type { Device, Resident } from '../storage/registry.ts';
import type { TelemetryPoint } from '../storage/telemetry.ts';

const decodeTelemetry = createDecoder(TelemetryBatch);

export interface TelemetryMessage {
  siteId: string;
  gatewayId: string;
  /** The MQTT topic, for logs. */
  topic: string;
  payload: Uint8Array;
}

/** An alarm a reading asks for, with the subject the engine needs (plain data: it crosses threads). */
export interface TelemetryAlarm {
  siteId: string;
  gatewayId: string;
  deviceId: string;
  residentId: string | null;
  room: string | null;
  at: string;
  request: AlarmRequest;
}

/** What a chunk of telemetry messages produced, for the main thread. */
export interface TelemetryFindings {
  alarms: TelemetryAlarm[];
  /** Registered devices heard, with the newest reading time of each. */
  heard: Array<[deviceId: string, at: string]>;
  points: number;
  rejected: Array<{ topic: string; reason: string; error: string }>;
  forged: Array<{ gatewayId: string; deviceId: string }>;
  /** Presence readings of residents' devices, the newest per device (daily-living watch). */
  presence: Array<{ residentId: string; deviceId: string; room: string | null; at: string; value: number }>;
  /** Heart and breathing rate ranges and sleep scores per resident in this chunk (sleep report). */
  sleep: Array<{ residentId: string; metric: 'heart_rate' | 'resp_rate' | 'sleep_score'; min: number; max: number; at: string }>;
}

export interface ReaderLookups {
  getDevice(id: string): Promise<Device | undefined>;
  getResident(id: string): Promise<Resident | undefined>;
}

export const emptyFindings = (): TelemetryFindings => ({
  alarms: [],
  heard: [],
  points: 0,
  rejected: [],
  forged: [],
  presence: [],
  sleep: [],
});

export function createTelemetryReader(lookups: ReaderLookups, lowBatteryPercent: number) {
  const vitals = createVitalsTracker();
  // Effective settings per cached resident object: not re-validated for every reading.
  const settingsOf = new WeakMap<Resident, EffectiveSettings>();
  async function residentSettings(residentId: string): Promise<EffectiveSettings | null> {
    const r = await lookups.getResident(residentId);
    if (!r) return null;
    let settings = settingsOf.get(r);
    if (!settings) {
      settings = effectiveSettings(r.settings);
      settingsOf.set(r, settings);
    }
    return settings;
  }

  /**
   * Reads a chunk of messages: the rows to store, and findings. Alarm requests are kept one per
   * cause (alarm type and device) per chunk: a device repeating a low battery in every batch
   * counts one repeat per chunk, not one per reading.
   */
  async function readChunk(messages: TelemetryMessage[]): Promise<{ rows: TelemetryPoint[]; findings: TelemetryFindings }> {
    const rows: TelemetryPoint[] = [];
    const findings = emptyFindings();
    const heard = new Map<string, string>();
    const alarms = new Map<string, TelemetryAlarm>();
    const presenceNow = new Map<string, string>();
    const sleep = new Map<string, TelemetryFindings['sleep'][number]>();
    for (const m of messages) {
      const d = decodeTelemetry.decode(Buffer.from(m.payload.buffer, m.payload.byteOffset, m.payload.byteLength));
      if (!d.ok) {
        findings.rejected.push({ topic: m.topic, reason: d.reason, error: d.error });
        continue;
      }
      for (const p of d.value.points) {
        const device = await lookups.getDevice(p.device);
        if (device && device.gatewayId !== m.gatewayId) {
          findings.forged.push({ gatewayId: m.gatewayId, deviceId: p.device });
          continue;
        }
        rows.push({
          site_id: m.siteId,
          device_id: p.device,
          resident_id: device?.residentId ?? null,
          metric: p.metric,
          value: p.value,
          ts: p.ts,
        });
        if (!device) continue;
        const last = heard.get(device.id);
        if (last === undefined || last < p.ts) heard.set(device.id, p.ts);
        // Presence for the daily-living watch: each change of the resident's room or of a sensor's
        // value within the chunk, not every repeat of one sensor.
        const said = `${device.id}\u0000${p.value}`;
        if (p.metric === 'presence' && device.residentId && presenceNow.get(device.residentId) !== said) {
          presenceNow.set(device.residentId, said);
          findings.presence.push({ residentId: device.residentId, deviceId: device.id, room: device.room, at: p.ts, value: p.value });
        }
        if (device.residentId && (p.metric === 'heart_rate' || p.metric === 'resp_rate' || p.metric === 'sleep_score')) {
          // Per ten minutes of the readings' own time: a chunk may hold last night's readings (a
          // mattress or a replay catching up) with tonight's, and the sleep report places a range
          // by its time. One range for the whole chunk, at its newest reading, gave last night's
          // heart rates to tonight.
          const k = `${device.residentId}\u0000${p.metric}\u0000${p.ts.slice(0, 15)}`;
          const r = sleep.get(k);
          if (!r) sleep.set(k, { residentId: device.residentId, metric: p.metric, min: p.value, max: p.value, at: p.ts });
          else {
            r.min = Math.min(r.min, p.value);
            r.max = Math.max(r.max, p.value);
            if (p.ts > r.at) r.at = p.ts;
          }
        }
        const requests = evaluateBattery(p, lowBatteryPercent);
        const settings = device.residentId ? await residentSettings(device.residentId) : null;
        const own = settings?.vitals[p.metric];
        // A resident's limit adds to the default: setting only `max` keeps the default `min`.
        const limit = own || DEFAULT_VITAL_LIMITS[p.metric] ? { ...DEFAULT_VITAL_LIMITS[p.metric], ...own } : undefined;
        if (device.residentId && limit) {
          const tsMs = Date.parse(p.ts);
          const streaming = vitals.streaming(device.id, p.metric, tsMs);
          requests.push(
            ...vitals.observe(device.id, {
              metric: p.metric,
              value: p.value,
              tsMs,
              limit,
              mode: vitalMode(p.metric, device.kind, streaming, own),
              confirmDelaySeconds: settings?.confirmDelaySeconds.vitals,
              clearAfterSeconds: settings?.vitalsClearAfterSeconds,
            }),
          );
        }
        for (const request of requests) {
          const cause = `${request.type}:${device.id}`;
          if (alarms.has(cause)) continue;
          alarms.set(cause, {
            siteId: m.siteId,
            gatewayId: m.gatewayId,
            deviceId: device.id,
            residentId: device.residentId,
            room: device.room,
            at: p.ts,
            request,
          });
        }
      }
    }
    findings.points = rows.length;
    findings.heard = [...heard];
    findings.alarms = [...alarms.values()];
    findings.sleep = [...sleep.values()];
    return { rows, findings };
  }

  return { readChunk };
}

// The main thread's share of telemetry: what the telemetry worker found in a chunk of readings.
// Alarm requests (vitals, low battery) go to the engine in one transaction; registered devices
// heard go to supervision; bad payloads and forged readings are counted and logged here, where
// the metrics live.
import type { AlarmEngine } from '../alarms/engine.ts';
import type { Supervision } from '../alarms/supervision.ts';
import type { Metrics } from '../metrics.ts';
import type { Db } from '../storage/registry.ts';
import type { TelemetryFindings } from './telemetry-reader.ts';

export interface TelemetryAlarmsDeps {
  db: Db;
  engine: AlarmEngine;
  supervision: Pick<Supervision, 'heardDevice'>;
  metrics: Pick<Metrics, 'telemetryPoints' | 'rejected' | 'securityEvents' | 'storeErrors'>;
  log: import('pino').Logger;
  /** Presence readings of residents' devices, for the daily-living watch (never awaited). */
  onPresence?: (presence: TelemetryFindings['presence']) => void;
  /** Heart and breathing rate ranges and sleep scores, for the sleep report (never awaited). */
  onSleepReadings?: (sleep: TelemetryFindings['sleep']) => void;
}

export function createTelemetryAlarms(deps: TelemetryAlarmsDeps) {
  const { db, engine, metrics, log } = deps;
  /** Chunks apply one after another, in the order the worker read them. */
  let chain: Promise<void> = Promise.resolve();

  async function apply(f: TelemetryFindings): Promise<void> {
    metrics.telemetryPoints.inc(f.points);
    for (const r of f.rejected) {
      metrics.rejected.inc({ kind: 'telemetry', reason: r.reason });
      log.warn({ topic: r.topic, reason: r.reason, error: r.error }, 'payload rejected');
    }
    for (const x of f.forged) {
      metrics.securityEvents.inc({ kind: 'forged_device' });
      log.warn({ gatewayId: x.gatewayId, deviceId: x.deviceId }, "security: reading names another gateway's device; dropped");
    }
    for (const [deviceId, at] of f.heard) deps.supervision.heardDevice(deviceId, at);
    if (f.presence.length > 0) deps.onPresence?.(f.presence);
    if (f.sleep.length > 0) deps.onSleepReadings?.(f.sleep);
    if (f.alarms.length === 0) return;
    try {
      const changed = await db.transaction().execute(async (tx) => {
        const ids: string[] = [];
        for (const a of f.alarms) {
          const subject = {
            siteId: a.siteId,
            gatewayId: a.gatewayId,
            deviceId: a.deviceId,
            residentId: a.residentId,
            room: a.room,
            unregistered: !a.residentId,
            at: a.at,
          };
          ids.push(...(await engine.apply(tx, [a.request], subject, `gateway:${a.gatewayId}`)));
        }
        return ids;
      });
      await engine.publish(changed);
    } catch (err) {
      metrics.storeErrors.inc({ store: 'state' });
      log.error({ err, alarms: f.alarms.length }, 'alarms from telemetry not committed');
    }
  }

  return {
    /** Applies a chunk's findings after those before it. */
    apply(f: TelemetryFindings): Promise<void> {
      chain = chain.then(() => apply(f));
      return chain;
    },
    /** Waits for the findings already handed over (shutdown, tests). */
    idle: () => chain,
  };
}
export type TelemetryAlarms = ReturnType<typeof createTelemetryAlarms>;

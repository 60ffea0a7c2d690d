// What a GPS watch's report becomes, whichever protocol brought it (the "watch" protocol in
// listener.ts, JT/T 808 in server/jt808/): readings and events through ingest on the topic of the
// gateway the watch is registered under, and a position judged against the wearer's home zone.
import { type Clock, type DeviceEvent, gatewayTopic, type Reading } from '../../protocol/index.ts';
import type { AlarmEngine } from '../alarms/engine.ts';
import { evaluateGeofence } from '../alarms/geofence.ts';
import { effectiveSettings } from '../alarms/settings.ts';
import type { Db, Device } from '../storage/registry.ts';

export interface ReportDeps {
  lookups: {
    getResident(id: string): Promise<{ id: string; room: string; settings: Record<string, unknown> } | undefined>;
    getSite(id: string): Promise<{ timezone: string } | undefined>;
  };
  /** Ingest's entry point: the same one the broker calls with a gateway's messages. */
  ingest: (topic: string, payload: Buffer) => Promise<void>;
  supervision: { heardGateway(id: string): void };
  db: Db;
  engine: Pick<AlarmEngine, 'apply' | 'publish'>;
  log: { error(obj: object, msg: string): void };
  clock: Clock;
}

/** A watch bound to its connection: the device and the gateway the server speaks for. */
export interface Bound {
  device: Device;
  siteId: string;
  gatewayId: string;
}

export interface Fix {
  valid: boolean;
  latitude: number;
  longitude: number;
}

/** A watch clock more than this ahead (or a day behind) is not trusted to say whether it is night. */
const MAX_AHEAD_MS = 10 * 60_000;
const MAX_BEHIND_MS = 24 * 3600_000;

export function createReportSink(deps: ReportDeps, source: { name: string; eventPrefix: string }) {
  const { clock, log } = deps;
  let seq = 0;

  /** The watch's time unless its clock is far off; then the time of receipt. */
  function trustedTime(at: string | null, receivedAt: string): string {
    if (!at) return receivedAt;
    const skew = Date.parse(at) - Date.parse(receivedAt);
    return skew > MAX_AHEAD_MS || skew < -MAX_BEHIND_MS ? receivedAt : at;
  }

  async function sendReadings(b: Bound, readings: Array<{ metric: Reading['metric']; value: number }>, at: string) {
    const points: Reading[] = readings.map((r) => ({ device: b.device.id, metric: r.metric, value: r.value, ts: at }));
    await deps.ingest(gatewayTopic(b.siteId, b.gatewayId, 'telemetry'), Buffer.from(JSON.stringify({ v: 1, ts: clock.iso(), points })));
  }

  /** One event through ingest; true once it is committed (stored now, or before). */
  async function sendEvent(b: Bound, type: 'call' | 'fall', p: Fix, at: string): Promise<boolean> {
    seq = Math.max(seq + 1, clock.now());
    // The same report resent by the watch (same time, same kind) is the same event: stored once.
    const id = `${source.eventPrefix}-${b.device.id}-${type}-${at.replace(/[^0-9]/g, '')}`.slice(0, 64);
    const event: DeviceEvent = {
      v: 1,
      id,
      seq,
      ts: at,
      device: b.device.id,
      type,
      data: p.valid ? { latitude: p.latitude, longitude: p.longitude, source: source.name } : { source: source.name, fix: 'none' },
    };
    await deps.ingest(gatewayTopic(b.siteId, b.gatewayId, 'events'), Buffer.from(JSON.stringify(event)));
    const row = await deps.db
      .selectFrom('events')
      .select('id')
      .where('gateway_id', '=', b.gatewayId)
      .where('id', '=', id)
      .executeTakeFirst();
    if (!row) log.error({ deviceId: b.device.id, eventId: id, type }, 'watch alarm not committed; left unanswered for the watch to resend');
    return Boolean(row);
  }

  async function judgeGeofence(b: Bound, p: Fix, at: string) {
    if (!p.valid || !b.device.residentId) return;
    const resident = await deps.lookups.getResident(b.device.residentId);
    if (!resident) return;
    const settings = effectiveSettings(resident.settings);
    if (!settings.homeZone) return;
    const timezone = (await deps.lookups.getSite(b.siteId))?.timezone ?? Intl.DateTimeFormat().resolvedOptions().timeZone;
    const requests = evaluateGeofence({
      position: { latitude: p.latitude, longitude: p.longitude, valid: p.valid, at },
      homeZone: settings.homeZone,
      nightWindow: settings.nightWindow,
      timezone,
    });
    if (requests.length === 0) return;
    const changed = await deps.db.transaction().execute((tx) =>
      deps.engine.apply(
        tx,
        requests,
        {
          siteId: b.siteId,
          gatewayId: b.gatewayId,
          deviceId: b.device.id,
          residentId: resident.id,
          room: resident.room,
          unregistered: false,
          at,
        },
        `${source.name}:${b.device.id}`,
      ),
    );
    await deps.engine.publish(changed);
  }

  /** Gateways that hold watches and nothing else: the server is their link, so it says they are up. */
  async function heartbeatWatchGateways() {
    const rows = await deps.db
      .selectFrom('devices')
      .select('gateway_id')
      .where('kind', '=', 'gps_watch')
      .where((eb) => eb('gateway_id', 'not in', eb.selectFrom('devices').select('gateway_id').where('kind', '<>', 'gps_watch')))
      .distinct()
      .limit(10_000)
      .execute();
    for (const r of rows) deps.supervision.heardGateway(r.gateway_id);
  }

  return { trustedTime, sendReadings, sendEvent, judgeGeofence, heartbeatWatchGateways };
}
export type ReportSink = ReturnType<typeof createReportSink>;

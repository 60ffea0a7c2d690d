// Supervision: missing data is itself an alarm. A gateway that says nothing for longer than its
// silence limit (or whose last will arrives) is offline; a device silent past its kind's interval
// is offline; both clear themselves when heard again and say how long they were gone. Supervision
// starts at registration: one never heard at all is flagged once its limit and the site's
// commissioning grace have passed since it was registered. Any message from a gateway (an event,
// a reading, a status) counts as hearing it.
import type { Logger } from 'pino';
import type { DeviceKind } from '../../protocol/index.ts';
import { compiledOnce } from '../storage/insert-cache.ts';
import type { Db } from '../storage/registry.ts';
import { timeSlicer } from '../time-slice.ts';
import type { AlarmEngine, AlarmSubject } from './engine.ts';

// Last seen, never back in time (another instance may have heard it later): compiled once, these
// run for every device heard (thousands a sweep).
const deviceSeen = compiledOnce((db: Db, p: { id: string; seen: string }) =>
  db
    .updateTable('devices')
    .set({ last_seen: p.seen })
    .where('id', '=', p.id)
    .where((eb) => eb.or([eb('last_seen', 'is', null), eb('last_seen', '<', p.seen)])),
);
const gatewaySeen = compiledOnce((db: Db, p: { id: string; seen: string }) =>
  db
    .updateTable('gateways')
    .set({ last_seen: p.seen })
    .where('id', '=', p.id)
    .where((eb) => eb.or([eb('last_seen', 'is', null), eb('last_seen', '<', p.seen)])),
);

/** Devices whose last-seen time one sweep transaction writes (see sweep). */
const HEARD_SLICE = 200;
/** Devices the sweep reads per query (see keysetPages): about 2 ms of the event loop each, measured
 * under the alarm bench at 16,000 devices (500 took 4-6 ms). */
const DEVICE_PAGE = 250;

/**
 * The rows of a query read in keyset pages of DEVICE_PAGE (ordered by id, after the last id of the
 * page before), giving the event loop a turn between pages. One query over all 16,000 devices of
 * the bench held the event loop 126-165 ms every sweep (better-sqlite3 answers synchronously). A
 * change the caller makes to a row already read (cleared, flagged) is behind the cursor, so no row
 * is skipped or read twice because of it.
 */
async function* keysetPages<T extends { id: string }>(read: (after: string | undefined) => Promise<T[]>): AsyncGenerator<T> {
  for (let after: string | undefined; ; ) {
    const rows = await read(after);
    yield* rows;
    const last = rows.at(-1);
    if (rows.length < DEVICE_PAGE || !last) return;
    after = last.id;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

/** How long a device of each kind may be silent. Radars send a heartbeat each minute. */
export const DEVICE_SILENCE_SECONDS: Record<DeviceKind, number> = {
  fall_detector: 5 * 60,
  presence_sensor: 10 * 60,
  vitals_monitor: 10 * 60,
  bed_sensor: 60 * 60,
  door_sensor: 24 * 3600,
  call_button: 24 * 3600,
  // A watch sends a keep-alive (LK) every few minutes while it has a network; an hour allows for lifts and basements.
  gps_watch: 60 * 60,
  // Zigbee safety sensors check in at least hourly (zigbee-herdsman-converters' checkin intervals); a day like contacts.
  smoke_detector: 24 * 3600,
  gas_detector: 24 * 3600,
  leak_sensor: 24 * 3600,
};

/** Time to install what was registered before a gateway or device never heard is flagged; a site can change it. */
export const DEFAULT_COMMISSIONING_GRACE_SECONDS = 3600;

export interface SupervisionOptions {
  /** Three missed 30 s heartbeats, minus one sweep, so detection stays inside 90 s. */
  gatewaySilenceMs: number;
}

/** The site's commissioning grace in ms (its setting, or the default). */
const graceMs = (seconds: number | null | undefined) => (seconds ?? DEFAULT_COMMISSIONING_GRACE_SECONDS) * 1000;

export function describeGap(fromIso: string, toIso: string): string {
  const min = Math.max(0, Math.round((Date.parse(toIso) - Date.parse(fromIso)) / 60_000));
  return min < 60 ? `${min} min` : `${Math.floor(min / 60)} h ${min % 60} min`;
}

export function createSupervision(
  deps: {
    db: Db;
    engine: AlarmEngine;
    now: () => string;
    log: Logger;
    /** A device's state changed under ingest's lookup cache (marked offline): read it afresh. */
    forgetDevice?: (id: string) => void;
  },
  opts: SupervisionOptions = { gatewaySilenceMs: 80_000 },
) {
  const { db, engine, now, log } = deps;
  const gatewayHeard = new Map<string, string>();
  const deviceHeard = new Map<string, string>();

  const gatewaySubject = (siteId: string, gatewayId: string, at: string): AlarmSubject => ({
    siteId,
    gatewayId,
    deviceId: null,
    residentId: null,
    room: null,
    unregistered: false,
    at,
  });

  async function gatewayDown(siteId: string, gatewayId: string, lastSeen: string | null, why: string) {
    const at = now();
    const changed = await db.transaction().execute(async (tx) => {
      const r = await tx
        .updateTable('gateways')
        .set({ state: 'offline', offline_since: lastSeen ?? at })
        .where('id', '=', gatewayId)
        .where('state', '<>', 'offline')
        .executeTakeFirst();
      if (Number(r.numUpdatedRows) !== 1) return [];
      log.warn({ gatewayId, why }, 'gateway offline');
      return engine.apply(
        tx,
        [{ kind: 'raise', type: 'gateway_offline', priority: 'medium', detail: { why, lastSeen } }],
        gatewaySubject(siteId, gatewayId, at),
        'system',
      );
    });
    await engine.publish(changed);
  }

  async function gatewayUp(siteId: string, gatewayId: string) {
    const at = now();
    gatewayHeard.set(gatewayId, at);
    const row = await db.selectFrom('gateways').select(['state', 'offline_since']).where('id', '=', gatewayId).executeTakeFirst();
    if (!row || row.state === 'online') return;
    const changed = await db.transaction().execute(async (tx) => {
      await tx.updateTable('gateways').set({ state: 'online', offline_since: null, last_seen: at }).where('id', '=', gatewayId).execute();
      const note = row.offline_since ? `back after ${describeGap(row.offline_since, at)}` : 'back online';
      return engine.apply(
        tx,
        [{ kind: 'clear', type: 'gateway_offline', onlyIfUnacknowledged: false, detail: { note } }],
        gatewaySubject(siteId, gatewayId, at),
        'system',
      );
    });
    await engine.publish(changed);
  }

  return {
    /** Any message from a gateway: cheap, in memory; the sweep persists it. */
    heardGateway(gatewayId: string) {
      gatewayHeard.set(gatewayId, now());
    },
    heardDevice(deviceId: string, at = now()) {
      deviceHeard.set(deviceId, at);
    },
    gatewayUp,
    gatewayDown,
    /** Inside an event's transaction: a device that was offline is back. Returns changed alarm ids. */
    async deviceBack(tx: Db, device: { id: string; offlineSince: string | null }, subject: AlarmSubject) {
      if (!device.offlineSince) return [];
      await tx.updateTable('devices').set({ offline_since: null }).where('id', '=', device.id).execute();
      const note = `back after ${describeGap(device.offlineSince, subject.at)}`;
      return engine.apply(
        tx,
        [{ kind: 'clear', type: 'device_offline', onlyIfUnacknowledged: false, detail: { note } }],
        subject,
        'system',
      );
    },
    async sweep() {
      const at = now();
      const nowMs = Date.parse(at);
      // Persist what was heard since the last sweep.
      const heardGateways = [...gatewayHeard];
      gatewayHeard.clear();
      for (const [id, seen] of heardGateways) {
        // Never back in time: the gateway may have been heard later by another instance.
        await gatewaySeen(db, { id, seen });
      }
      // A gateway that sends events but no status is up all the same. One marked offline comes
      // back only if heard after that (an event that came in just before its last will does not).
      if (heardGateways.length > 0) {
        const seenAt = new Map(heardGateways);
        const ids = [...seenAt.keys()];
        const down = [];
        // In slices: a query's parameters are limited (SQLite 32,766).
        for (let i = 0; i < ids.length; i += 500) {
          down.push(
            ...(await db
              .selectFrom('gateways')
              .select(['id', 'site_id', 'state', 'offline_since'])
              .where('id', 'in', ids.slice(i, i + 500))
              .where('state', 'in', ['never_connected', 'offline'])
              .execute()),
          );
        }
        for (const g of down) {
          const seen = seenAt.get(g.id) as string;
          if (g.state === 'offline' && g.offline_since && g.offline_since >= seen) continue;
          await gatewayUp(g.site_id, g.id);
        }
      }
      const heard = [...deviceHeard];
      deviceHeard.clear();
      // One transaction per slice of devices, yielding to the event loop between slices: a home's
      // thousands of devices were one autocommit write each, back to back on microtasks, which
      // held the event loop (and every alarm behind it) for up to a second per sweep.
      for (let i = 0; i < heard.length; i += HEARD_SLICE) {
        const slice = heard.slice(i, i + HEARD_SLICE);
        await db.transaction().execute(async (tx) => {
          for (const [id, seen] of slice) {
            await deviceSeen(tx, { id, seen });
          }
        });
        if (i + HEARD_SLICE < heard.length) await new Promise<void>((resolve) => setImmediate(resolve));
      }
      // Devices heard by telemetry only may be flagged offline: clear those now.
      const back = keysetPages((after) =>
        db
          .selectFrom('devices')
          .innerJoin('gateways', 'gateways.id', 'devices.gateway_id')
          .select([
            'devices.id',
            'devices.offline_since',
            'devices.gateway_id',
            'devices.resident_id',
            'devices.room',
            'gateways.site_id',
            'devices.last_seen',
          ])
          .where('devices.offline_since', 'is not', null)
          .$if(after !== undefined, (q) => q.where('devices.id', '>', after as string))
          .orderBy('devices.id')
          .limit(DEVICE_PAGE)
          .execute(),
      );
      const changed: string[] = [];
      // Within a page, a transaction per device changed: these yield every 4 ms too.
      const timeSlice = timeSlicer();
      for await (const d of back) {
        if (d.last_seen && d.offline_since && d.last_seen > d.offline_since) {
          await timeSlice();
          const ids = await db.transaction().execute((tx) =>
            this.deviceBack(
              tx,
              { id: d.id, offlineSince: d.offline_since },
              {
                siteId: d.site_id,
                gatewayId: d.gateway_id,
                deviceId: d.id,
                residentId: d.resident_id,
                room: d.room,
                unregistered: false,
                at: d.last_seen as string,
              },
            ),
          );
          changed.push(...ids);
        }
      }

      const silentGateways = await db
        .selectFrom('gateways')
        .select(['id', 'site_id', 'last_seen'])
        .where('state', '=', 'online')
        .where('last_seen', '<', new Date(nowMs - opts.gatewaySilenceMs).toISOString())
        .execute();
      for (const g of silentGateways) await gatewayDown(g.site_id, g.id, g.last_seen, 'silent');

      // Registered, never heard: flagged once the silence limit and the site's grace have passed.
      const neverHeard = await db
        .selectFrom('gateways')
        .innerJoin('sites', 'sites.id', 'gateways.site_id')
        .select(['gateways.id', 'gateways.site_id', 'gateways.created_at', 'sites.commissioning_grace_seconds'])
        .where('gateways.state', '=', 'never_connected')
        .execute();
      for (const g of neverHeard) {
        if (Date.parse(g.created_at) + opts.gatewaySilenceMs + graceMs(g.commissioning_grace_seconds) > nowMs) continue;
        await gatewayDown(g.site_id, g.id, null, 'never heard since registration');
      }

      const devices = keysetPages((after) =>
        db
          .selectFrom('devices')
          .innerJoin('gateways', 'gateways.id', 'devices.gateway_id')
          .innerJoin('sites', 'sites.id', 'gateways.site_id')
          .select([
            'devices.id',
            'devices.kind',
            'devices.supervision_seconds',
            'devices.last_seen',
            'devices.gateway_id',
            'devices.resident_id',
            'devices.room',
            'gateways.site_id',
            'gateways.state',
            'devices.created_at',
            'sites.commissioning_grace_seconds',
          ])
          .where('devices.offline_since', 'is', null)
          .$if(after !== undefined, (q) => q.where('devices.id', '>', after as string))
          .orderBy('devices.id')
          .limit(DEVICE_PAGE)
          .execute(),
      );
      for await (const d of devices) {
        // When the whole gateway is offline, its own alarm says so; no flood of device alarms.
        if (d.state === 'offline') continue;
        // Never heard: counted from registration, with the site's grace, under a gateway that is up.
        if (!d.last_seen && d.state !== 'online') continue;
        const limit =
          (d.supervision_seconds ?? DEVICE_SILENCE_SECONDS[d.kind as DeviceKind] ?? 3600) * 1000 +
          (d.last_seen ? 0 : graceMs(d.commissioning_grace_seconds));
        const since = d.last_seen ?? d.created_at;
        if (Date.parse(since) > nowMs - limit) continue;
        await timeSlice();
        const ids = await db.transaction().execute(async (tx) => {
          // Every instance sweeps; the one that marks the device offline raises the alarm.
          const r = await tx
            .updateTable('devices')
            .set({ offline_since: since })
            .where('id', '=', d.id)
            .where('offline_since', 'is', null)
            .executeTakeFirst();
          if (Number(r.numUpdatedRows) !== 1) return [];
          deps.forgetDevice?.(d.id);
          return engine.apply(
            tx,
            [
              {
                kind: 'raise',
                type: 'device_offline',
                priority: 'low',
                detail: d.last_seen ? { lastSeen: d.last_seen } : { lastSeen: null, neverHeard: true, registeredAt: d.created_at },
              },
            ],
            {
              siteId: d.site_id,
              gatewayId: d.gateway_id,
              deviceId: d.id,
              residentId: d.resident_id,
              room: d.room,
              unregistered: false,
              at,
            },
            'system',
          );
        });
        changed.push(...ids);
      }
      await engine.publish(changed);
    },
  };
}
export type Supervision = ReturnType<typeof createSupervision>;

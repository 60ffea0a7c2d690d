// Device tests (the care standard asks for a weekly check of every alarm button): while a test is
// pending, an alarm from the device is a test alarm (shown as a test, never escalated) and the
// test passes; a device that stays silent past the test window fails, which raises a technical
// alarm. Every result is recorded.
import type { Db } from '../storage/registry.ts';
import type { AlarmEngine } from './engine.ts';

export interface TestSchedule {
  weekday: number;
  time: string;
  windowSeconds: number;
  kinds: string[];
}

function localParts(iso: string, timeZone: string) {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    weekday: 'short',
    hourCycle: 'h23',
  }).formatToParts(new Date(iso));
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? '';
  const weekday = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'].indexOf(get('weekday'));
  return { date: `${get('year')}-${get('month')}-${get('day')}`, hhmm: `${get('hour')}:${get('minute')}`, weekday };
}

export function createDeviceTests(deps: { db: Db; engine: AlarmEngine; now: () => string }) {
  const { db, now } = deps;
  let pending = new Map<string, { id: string; dueAt: string }>(); // by device id

  async function refresh() {
    const rows = await db.selectFrom('device_tests').select(['id', 'device_id', 'due_at']).where('result', '=', 'pending').execute();
    pending = new Map(rows.map((r) => [r.device_id, { id: r.id, dueAt: r.due_at }]));
  }

  return {
    refresh,
    async start(deviceId: string, by: string, windowSeconds: number, id: string) {
      const at = now();
      await db
        .insertInto('device_tests')
        .values({
          id,
          device_id: deviceId,
          requested_by: by,
          started_at: at,
          due_at: new Date(Date.parse(at) + windowSeconds * 1000).toISOString(),
          result: 'pending',
          finished_at: null,
          alarm_id: null,
        })
        .execute();
      await refresh();
      return { id, deviceId, startedAt: at, dueAt: new Date(Date.parse(at) + windowSeconds * 1000).toISOString(), result: 'pending' };
    },
    /** Whether an alarm from this device now is a test alarm. */
    /** Only inside the test's window: past it, the alarm is real whatever this cache still holds. */
    inTest: (deviceId: string) => {
      const t = pending.get(deviceId);
      return t !== undefined && t.dueAt > now();
    },
    /** The device raised its test alarm: the test passed. */
    async passed(deviceId: string, alarmId: string) {
      const id = pending.get(deviceId)?.id;
      if (!id) return;
      pending.delete(deviceId);
      await db
        .updateTable('device_tests')
        .set({ result: 'passed', finished_at: now(), alarm_id: alarmId })
        .where('id', '=', id)
        .where('result', '=', 'pending')
        .execute();
    },
    /** Tests past their window fail, and each failure is a technical alarm for the device. */
    async failDue() {
      const due = await db.selectFrom('device_tests').selectAll().where('result', '=', 'pending').where('due_at', '<=', now()).execute();
      for (const t of due) {
        const device = await db
          .selectFrom('devices')
          .innerJoin('gateways', 'gateways.id', 'devices.gateway_id')
          .select(['devices.gateway_id', 'devices.resident_id', 'devices.room', 'gateways.site_id'])
          .where('devices.id', '=', t.device_id)
          .executeTakeFirst();
        const changed = await db.transaction().execute(async (tx) => {
          // Every instance looks for due tests; the one that moves it from pending raises the alarm.
          const r = await tx
            .updateTable('device_tests')
            .set({ result: 'failed', finished_at: now() })
            .where('id', '=', t.id)
            .where('result', '=', 'pending')
            .executeTakeFirst();
          if (Number(r.numUpdatedRows) !== 1) return [];
          return deps.engine.apply(
            tx,
            [{ kind: 'raise', type: 'device_fault', priority: 'low', detail: { test: 'failed', testId: t.id } }],
            {
              siteId: device?.site_id ?? null,
              gatewayId: device?.gateway_id ?? null,
              deviceId: t.device_id,
              residentId: device?.resident_id ?? null,
              room: device?.room ?? null,
              unregistered: !device,
              at: now(),
            },
            'system',
          );
        });
        await deps.engine.publish(changed);
      }
      // Read afresh every run: a test another instance started, passed or failed shows here
      // within a second, so a real alarm is never taken for a test that already ended.
      await refresh();
    },
    /** Weekly tests: each site's schedule starts a test of every device of the listed kinds. */
    async runSchedules(newId: () => string) {
      const at = now();
      const schedules = await db
        .selectFrom('test_schedules')
        .innerJoin('sites', 'sites.id', 'test_schedules.site_id')
        .select(['test_schedules.site_id', 'test_schedules.schedule', 'test_schedules.last_run', 'sites.timezone'])
        .execute();
      for (const row of schedules) {
        const sch = JSON.parse(row.schedule) as TestSchedule;
        const local = localParts(at, row.timezone);
        if (local.weekday !== sch.weekday || local.hhmm < sch.time || row.last_run === local.date) continue;
        const won = await db
          .updateTable('test_schedules')
          .set({ last_run: local.date })
          .where('site_id', '=', row.site_id)
          .where((eb) => (row.last_run === null ? eb('last_run', 'is', null) : eb('last_run', '=', row.last_run)))
          .executeTakeFirst();
        if (Number(won.numUpdatedRows) !== 1) continue; // another instance took it
        const devices = await db
          .selectFrom('devices')
          .innerJoin('gateways', 'gateways.id', 'devices.gateway_id')
          .select('devices.id')
          .where('gateways.site_id', '=', row.site_id)
          .where('devices.kind', 'in', sch.kinds)
          .execute();
        for (const d of devices) await this.start(d.id, 'schedule', sch.windowSeconds, newId());
      }
    },
    async list(deviceId: string) {
      return db.selectFrom('device_tests').selectAll().where('device_id', '=', deviceId).orderBy('started_at', 'desc').limit(100).execute();
    },
  };
}
export type DeviceTests = ReturnType<typeof createDeviceTests>;

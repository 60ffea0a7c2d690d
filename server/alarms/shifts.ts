// Shifts: which caregivers are on duty for which site or rooms. Alarms reach their screens first,
// and an area whose on-duty caregivers have no screen connected raises its own alarm, because an
// alarm nobody is looking at is an alarm missed.
import type { Alarm } from '../../protocol/index.ts';
import type { Db } from '../storage/registry.ts';
import type { ShiftsTable } from '../storage/tables.ts';
import type { AlarmEngine } from './engine.ts';

export interface Shift {
  id: string;
  siteId: string;
  userId: string;
  rooms: string[] | null;
  start: string;
  end: string;
}

const shift = (r: ShiftsTable): Shift => ({
  id: r.id,
  siteId: r.site_id,
  userId: r.user_id,
  rooms: r.rooms ? (JSON.parse(r.rooms) as string[]) : null,
  start: r.starts_at,
  end: r.ends_at,
});

export const covers = (s: Shift, alarm: Pick<Alarm, 'siteId' | 'room'>) =>
  s.siteId === alarm.siteId && (s.rooms === null || (alarm.room !== null && s.rooms.includes(alarm.room)));

export interface ShiftDeps {
  db: Db;
  engine: AlarmEngine;
  now: () => string;
  /** Users with a live screen now. */
  connectedUsers: () => Set<string>;
  /** How long an on-duty area may be without a screen before it alarms (a page reload is not). */
  graceMs?: number;
}

export function createShifts(deps: ShiftDeps) {
  const { db, now } = deps;
  const graceMs = deps.graceMs ?? 120_000;
  let current: Shift[] = [];
  const unwatchedSince = new Map<string, number>();

  async function refresh(): Promise<void> {
    const at = now();
    current = (await db.selectFrom('shifts').selectAll().where('starts_at', '<=', at).where('ends_at', '>', at).execute()).map(shift);
  }

  return {
    async create(s: Omit<Shift, 'id'>, id: string): Promise<Shift> {
      await db
        .insertInto('shifts')
        .values({
          id,
          site_id: s.siteId,
          user_id: s.userId,
          rooms: s.rooms ? JSON.stringify(s.rooms) : null,
          starts_at: s.start,
          ends_at: s.end,
          created_at: now(),
        })
        .execute();
      await refresh();
      return { ...s, id };
    },
    async list(filter: { siteId?: string; activeAt?: string }): Promise<Shift[]> {
      let q = db.selectFrom('shifts').selectAll().orderBy('starts_at').limit(2000);
      if (filter.siteId) q = q.where('site_id', '=', filter.siteId);
      if (filter.activeAt) q = q.where('starts_at', '<=', filter.activeAt).where('ends_at', '>', filter.activeAt);
      return (await q.execute()).map(shift);
    },
    async remove(id: string): Promise<boolean> {
      const r = await db.deleteFrom('shifts').where('id', '=', id).executeTakeFirst();
      await refresh();
      return Number(r.numDeletedRows) > 0;
    },
    /** Users on duty for this alarm's site and room right now (screens served first). */
    onDutyFor(alarm: Pick<Alarm, 'siteId' | 'room'>): Set<string> {
      return new Set(current.filter((s) => covers(s, alarm)).map((s) => s.userId));
    },
    /** Raises `no_caregiver` for a site whose on-duty caregivers have had no screen for the grace time; clears it when one connects. */
    async checkCoverage(): Promise<void> {
      await refresh();
      const connected = deps.connectedUsers();
      const nowMs = Date.parse(now());
      const sites = new Map<string, Shift[]>();
      for (const s of current) sites.set(s.siteId, [...(sites.get(s.siteId) ?? []), s]);
      const changed: string[] = [];
      for (const [siteId, shifts] of sites) {
        const watched = shifts.some((s) => connected.has(s.userId));
        const subject = { siteId, gatewayId: null, deviceId: null, residentId: null, room: null, unregistered: false, at: now() };
        if (watched) {
          unwatchedSince.delete(siteId);
          changed.push(
            ...(await db
              .transaction()
              .execute((tx) =>
                deps.engine.apply(tx, [{ kind: 'clear', type: 'no_caregiver', onlyIfUnacknowledged: false }], subject, 'system'),
              )),
          );
          continue;
        }
        const since = unwatchedSince.get(siteId) ?? nowMs;
        unwatchedSince.set(siteId, since);
        if (nowMs - since < graceMs) continue;
        changed.push(
          ...(await db
            .transaction()
            .execute((tx) =>
              deps.engine.apply(
                tx,
                [{ kind: 'raise', type: 'no_caregiver', priority: 'medium', detail: { onDuty: shifts.map((s) => s.userId) } }],
                subject,
                'system',
              ),
            )),
        );
      }
      await deps.engine.publish(changed);
    },
  };
}
export type Shifts = ReturnType<typeof createShifts>;

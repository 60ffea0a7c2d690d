// Alarm rows and their append-only audit trail. Every state change goes through `transition`,
// which writes the audit line in the same transaction.

import { type Expression, type ExpressionBuilder, type Insertable, type SqlBool, sql } from 'kysely';
import type { Alarm, AlarmState } from '../../protocol/index.ts';
import { cachedInsert, compiledOnce } from './insert-cache.ts';
import type { Db } from './registry.ts';
import type { AlarmsTable, Database } from './tables.ts';

/**
 * `'resolved'` written into the SQL, not bound: the partial indexes on open alarms say
 * `WHERE state <> 'resolved'`, and SQLite can use one for a bound value only by preparing the
 * statement again at every call (measured: the open-alarm lookup by cause 39 us bound, 5.7 us
 * literal, with 22,000 alarms; it ran once per event on the alarm path).
 */
export const RESOLVED = sql.lit<'resolved'>('resolved');

type Row = AlarmsTable & { resident_name: string | null; bed: string | null };

export function toAlarm(r: Row): Alarm {
  return {
    id: r.id,
    type: r.type as Alarm['type'],
    priority: r.priority as Alarm['priority'],
    state: r.state as Alarm['state'],
    siteId: r.site_id,
    gatewayId: r.gateway_id,
    deviceId: r.device_id,
    residentId: r.resident_id,
    residentName: r.resident_name,
    room: r.room,
    bed: r.bed,
    raisedAt: r.raised_at,
    lastEventAt: r.last_event_at,
    ackAt: r.ack_at,
    ackBy: r.ack_by,
    resolvedAt: r.resolved_at,
    resolvedBy: r.resolved_by,
    outcome: r.outcome,
    note: r.note,
    escalationLevel: Number(r.escalation_level),
    onSiteBy: r.on_site_by,
    count: Number(r.count),
    unregistered: Boolean(r.unregistered),
    test: Boolean(r.test),
    snoozedUntil: r.snoozed_until,
  };
}

function selectAlarms(db: Db) {
  return db
    .selectFrom('alarms')
    .leftJoin('residents', 'residents.id', 'alarms.resident_id')
    .selectAll('alarms')
    .select(['residents.name as resident_name', 'residents.bed as bed']);
}

export interface AuditEntry {
  at: string;
  actor: string;
  action: string;
  alarmId?: string | null;
  subject?: string | null;
  detail?: unknown;
}

const insertAlarm = cachedInsert((db, row: AlarmsTable) => db.insertInto('alarms').values(row));
/** The open alarm of a cause (at most one: the partial unique index alarms_open_cause). Once per event. */
const openByCause = compiledOnce((db: Db, p: { causeKey: string }) =>
  db.selectFrom('alarms').selectAll().where('cause_key', '=', p.causeKey).where('state', '<>', RESOLVED),
);
const insertAudit = cachedInsert((db, row: Insertable<Database['audit']>) => db.insertInto('audit').values(row));

export async function appendAudit(db: Db, e: AuditEntry): Promise<void> {
  await insertAudit(db, {
    at: e.at,
    actor: e.actor,
    action: e.action,
    alarm_id: e.alarmId ?? null,
    subject: e.subject ?? null,
    detail: e.detail === undefined ? null : JSON.stringify(e.detail),
  });
}

/** The alarms a caller may see, applied in the query (before any limit), never after it. */
export type AlarmScope =
  | { kind: 'all' }
  | { kind: 'site'; siteId: string }
  | { kind: 'resident'; residentId: string }
  | { kind: 'none' }
  /** A family login linked to several relatives (resident contacts). */
  | { kind: 'residents'; residentIds: string[] }
  /** A centre operator: every site placed in these areas (their area and those below it). */
  | { kind: 'areas'; areaIds: string[] }
  /** A grid worker: the sites they are responsible for. */
  | { kind: 'grid_worker'; userId: string }
  /** A responder: the alarms a `user` contact naming them (id or username) was notified of. */
  | { kind: 'responder'; targets: string[] };

/** `scope` as a condition on the `alarms` table, for any query that reads it. */
export function alarmScopeFilter(scope: AlarmScope) {
  return (eb: ExpressionBuilder<Database, 'alarms'>): Expression<SqlBool> => {
    switch (scope.kind) {
      case 'all':
        return sql<boolean>`1 = 1`;
      case 'none':
        return sql<boolean>`1 = 0`;
      case 'site':
        return eb('alarms.site_id', '=', scope.siteId);
      case 'resident':
        return eb('alarms.resident_id', '=', scope.residentId);
      case 'residents':
        return scope.residentIds.length === 0 ? sql<boolean>`1 = 0` : eb('alarms.resident_id', 'in', scope.residentIds);
      case 'areas':
        return scope.areaIds.length === 0
          ? sql<boolean>`1 = 0`
          : eb('alarms.site_id', 'in', eb.selectFrom('sites').select('sites.id').where('sites.area_id', 'in', scope.areaIds));
      case 'grid_worker':
        return eb('alarms.site_id', 'in', eb.selectFrom('sites').select('sites.id').where('sites.grid_worker_id', '=', scope.userId));
      case 'responder':
        return scope.targets.length === 0
          ? sql<boolean>`1 = 0`
          : eb(
              'alarms.id',
              'in',
              eb
                .selectFrom('notifications')
                .select('notifications.alarm_id')
                .where('notifications.channel', '=', 'user')
                .where('notifications.target', 'in', scope.targets)
                .where('notifications.state', '<>', 'suppressed'),
            );
    }
  };
}

export interface AlarmFilter {
  state?: AlarmState;
  open?: boolean;
  siteId?: string;
  residentId?: string;
}

/** Where a page ends: the last alarm shown, newest first. */
export interface AlarmCursor {
  raisedAt: string;
  id: string;
}

export const encodeCursor = (c: AlarmCursor) => Buffer.from(`${c.raisedAt}|${c.id}`).toString('base64url');
export function decodeCursor(s: string): AlarmCursor | null {
  const [raisedAt, id, ...more] = Buffer.from(s, 'base64url').toString('utf8').split('|');
  if (!raisedAt || !id || more.length > 0 || Number.isNaN(Date.parse(raisedAt)) || id.length > 64) return null;
  return { raisedAt, id };
}

export function createAlarmStore(db: Db) {
  function scoped(scope: AlarmScope, filter: AlarmFilter) {
    let q = selectAlarms(db);
    if (scope.kind !== 'all') q = q.where(alarmScopeFilter(scope));
    if (filter.state) q = q.where('alarms.state', '=', filter.state);
    if (filter.open) q = q.where('alarms.state', '<>', RESOLVED);
    if (filter.siteId) q = q.where('alarms.site_id', '=', filter.siteId);
    if (filter.residentId) q = q.where('alarms.resident_id', '=', filter.residentId);
    return q;
  }
  const newestFirst = (a: Alarm, b: Alarm) => (a.raisedAt === b.raisedAt ? (a.id < b.id ? 1 : -1) : a.raisedAt < b.raisedAt ? 1 : -1);

  return {
    async get(id: string, tx: Db = db): Promise<Alarm | undefined> {
      const r = await selectAlarms(tx).where('alarms.id', '=', id).executeTakeFirst();
      return r && toAlarm(r);
    },
    /** Several alarms in one query each 200 ids, in the order asked. */
    async getMany(ids: string[]): Promise<Alarm[]> {
      const byId = new Map<string, Alarm>();
      for (let i = 0; i < ids.length; i += 200) {
        const rows = await selectAlarms(db)
          .where('alarms.id', 'in', ids.slice(i, i + 200))
          .execute();
        for (const r of rows) byId.set(r.id, toAlarm(r));
      }
      return ids.flatMap((id) => byId.get(id) ?? []);
    },
    async list(filter: { state?: AlarmState; open?: boolean; siteId?: string; residentId?: string; limit?: number }) {
      let q = selectAlarms(db)
        .orderBy('alarms.raised_at', 'desc')
        .limit(filter.limit ?? 500);
      if (filter.state) q = q.where('alarms.state', '=', filter.state);
      if (filter.open) q = q.where('alarms.state', '<>', RESOLVED);
      if (filter.siteId) q = q.where('alarms.site_id', '=', filter.siteId);
      if (filter.residentId) q = q.where('alarms.resident_id', '=', filter.residentId);
      return (await q.execute()).map(toAlarm);
    },
    /**
     * A page of the alarms in `scope`, newest first. The first page (no cursor) holds every active
     * high-priority alarm in scope, however many, besides `limit` others: a flood of lesser or older
     * alarms can never push a real emergency off a screen. Later pages hold only the others.
     */
    async listForScope(
      scope: AlarmScope,
      filter: AlarmFilter & { limit: number; before?: AlarmCursor },
    ): Promise<{ alarms: Alarm[]; next: AlarmCursor | null }> {
      const urgent = filter.before
        ? []
        : (await scoped(scope, filter).where('alarms.state', '=', 'active').where('alarms.priority', '=', 'high').execute()).map(toAlarm);
      let q = scoped(scope, filter)
        .where((eb) => eb.not(eb.and([eb('alarms.state', '=', 'active'), eb('alarms.priority', '=', 'high')])))
        .orderBy('alarms.raised_at', 'desc')
        .orderBy('alarms.id', 'desc')
        .limit(filter.limit + 1);
      const before = filter.before;
      if (before) {
        q = q.where((eb) =>
          eb.or([
            eb('alarms.raised_at', '<', before.raisedAt),
            eb.and([eb('alarms.raised_at', '=', before.raisedAt), eb('alarms.id', '<', before.id)]),
          ]),
        );
      }
      const rest = (await q.execute()).map(toAlarm);
      const more = rest.length > filter.limit;
      if (more) rest.length = filter.limit;
      const last = rest.at(-1);
      return { alarms: [...urgent, ...rest].sort(newestFirst), next: more && last ? { raisedAt: last.raisedAt, id: last.id } : null };
    },
    async findOpenByCause(tx: Db, causeKey: string): Promise<AlarmsTable | undefined> {
      return (await openByCause(tx, { causeKey })).rows[0];
    },
    async insert(tx: Db, row: AlarmsTable): Promise<void> {
      await insertAlarm(tx, row);
    },
    async update(tx: Db, id: string, set: Partial<AlarmsTable>): Promise<void> {
      await tx.updateTable('alarms').set(set).where('id', '=', id).execute();
    },
    /** One more repeat of an open alarm's cause: an atomic increment, safe with several writers. */
    async repeat(tx: Db, id: string, set: Partial<AlarmsTable>): Promise<void> {
      await tx
        .updateTable('alarms')
        .set((eb) => ({ ...set, count: eb('count', '+', 1) }))
        .where('id', '=', id)
        .execute();
    },
    async history(alarmId: string) {
      return db.selectFrom('audit').selectAll().where('alarm_id', '=', alarmId).orderBy('id').execute();
    },
  };
}
export type AlarmStore = ReturnType<typeof createAlarmStore>;

// The alarm arbiter: the one place that raises, repeats, clears, acknowledges and resolves
// alarms. Rules ask; the engine decides, inside the caller's transaction, and writes every
// transition to the audit log.
import type { Logger } from 'pino';
import type { Alarm, IdSource, Priority } from '../../protocol/index.ts';
import type { AlarmStore } from '../storage/alarms.ts';
import { appendAudit } from '../storage/alarms.ts';
import type { Db } from '../storage/registry.ts';
import { timeSlicer } from '../time-slice.ts';
import { type EscalationPolicy, levelTimeoutMs, type PolicySource } from './escalation-policy.ts';
import { type AlarmRequest, higherPriority } from './rules.ts';

export interface AlarmSubject {
  siteId: string | null;
  gatewayId: string | null;
  deviceId: string | null;
  residentId: string | null;
  room: string | null;
  unregistered: boolean;
  /** The device is under test: the alarm is a test alarm. */
  test?: boolean;
  /** When the cause was observed (the device's timestamp). */
  at: string;
}

export type AlarmErrorCode = 'not_found' | 'invalid_transition';
export class AlarmError extends Error {
  constructor(
    readonly code: AlarmErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface AlarmEngineDeps {
  db: Db;
  alarms: AlarmStore;
  ids: IdSource;
  now: () => string;
  log: Logger;
  policies: PolicySource;
  /** Called after a commit with every alarm that changed, for the screens and notifications. */
  onChange: (alarms: Alarm[]) => void;
  /** Called after an alarm moved up the response chain, for the level's contacts. */
  onEscalated?: (alarm: Alarm, level: number, policy: EscalationPolicy) => void;
}

export const causeKey = (type: string, subject: Pick<AlarmSubject, 'deviceId' | 'gatewayId' | 'siteId'>) =>
  `${type}:${subject.deviceId ?? (subject.gatewayId ? `gateway:${subject.gatewayId}` : `site:${subject.siteId}`)}`;

export function createAlarmEngine(deps: AlarmEngineDeps) {
  const { alarms, ids, now } = deps;
  const after = (iso: string, ms: number | null) => (ms === null ? null : new Date(Date.parse(iso) + ms).toISOString());
  const nextEscalation = (siteId: string | null, level: number, priority: Priority, from: string) =>
    after(from, levelTimeoutMs(deps.policies.get(siteId), level, priority));

  /** Applies rule requests inside `tx`; returns the ids of alarms that changed. */
  async function apply(tx: Db, requests: AlarmRequest[], subject: AlarmSubject, actor: string): Promise<string[]> {
    const changed: string[] = [];
    for (const req of requests) {
      const key = causeKey(req.type, subject);
      const open = await alarms.findOpenByCause(tx, key);
      if (req.kind === 'raise' && req.confirmAfterMs && !open) {
        // Held until confirmed: the scheduler raises it when due, unless the cause ends first.
        const due = new Date(Date.parse(now()) + req.confirmAfterMs).toISOString();
        const { confirmAfterMs: _, ...held } = req;
        const r = await tx
          .insertInto('pending_alarms')
          .values({ cause_key: key, request: JSON.stringify(held), subject: JSON.stringify(subject), due_at: due })
          .onConflict((oc) => oc.column('cause_key').doNothing())
          .executeTakeFirst();
        if (Number(r.numInsertedOrUpdatedRows ?? 0) > 0) {
          await appendAudit(tx, { at: now(), actor, action: 'confirmation.held', subject: key, detail: { type: req.type, until: due } });
        }
        continue;
      }
      if (req.kind === 'clear') {
        const r = await tx.deleteFrom('pending_alarms').where('cause_key', '=', key).executeTakeFirst();
        if (Number(r.numDeletedRows) > 0) {
          await appendAudit(tx, { at: now(), actor, action: 'confirmation.cancelled', subject: key, detail: req.detail });
        }
      }
      if (req.kind === 'raise') {
        if (open) {
          const priority = higherPriority(open.priority as Priority, req.priority);
          // Becoming high priority ends a snooze: a high-priority alarm is never silenced.
          const sooner =
            priority !== open.priority && open.state === 'active'
              ? { next_escalation_at: nextEscalation(open.site_id, Number(open.escalation_level), priority, now()), snoozed_until: null }
              : {};
          // A real event on a test alarm still open (a call after the test passed) makes it a real
          // alarm that escalates: a real call is never hidden as a test.
          const real =
            open.test && !subject.test
              ? { test: 0, next_escalation_at: nextEscalation(open.site_id, Number(open.escalation_level), priority, now()) }
              : {};
          await alarms.repeat(tx, open.id, { last_event_at: subject.at, priority, ...sooner, ...real });
          await appendAudit(tx, {
            at: now(),
            actor,
            action: 'repeat',
            alarmId: open.id,
            detail: { at: subject.at, ...(open.test && !subject.test ? { noLongerTest: true } : {}) },
          });
          changed.push(open.id);
          continue;
        }
        const id = ids.next();
        const raisedAt = now();
        await alarms.insert(tx, {
          id,
          type: req.type,
          priority: req.priority,
          state: 'active',
          cause_key: key,
          site_id: subject.siteId,
          gateway_id: subject.gatewayId,
          device_id: subject.deviceId,
          resident_id: subject.residentId,
          room: subject.room,
          raised_at: raisedAt,
          last_event_at: subject.at,
          ack_at: null,
          ack_by: null,
          resolved_at: null,
          resolved_by: null,
          outcome: null,
          note: req.note ?? null,
          escalation_level: 0,
          count: 1,
          unregistered: subject.unregistered ? 1 : 0,
          test: subject.test ? 1 : 0,
          snoozed_until: null,
          // A test alarm never leaves the caregivers' screens for family or responders.
          next_escalation_at: subject.test ? null : nextEscalation(subject.siteId, 0, req.priority, raisedAt),
          upgrade_at: req.upgradeAfterMs ? after(raisedAt, req.upgradeAfterMs) : null,
          on_site_by: null,
        });
        await appendAudit(tx, {
          at: now(),
          actor,
          action: 'raised',
          alarmId: id,
          detail: {
            type: req.type,
            priority: req.priority,
            unregistered: subject.unregistered,
            ...(subject.test ? { test: true } : {}),
            ...req.detail,
          },
        });
        changed.push(id);
      } else if (open && (!req.onlyIfUnacknowledged || open.state === 'active')) {
        // The cause ended by itself (bed_return, call_cancel, device back): cleared, kept in history.
        await alarms.update(tx, open.id, {
          state: 'resolved',
          resolved_at: now(),
          resolved_by: actor,
          outcome: 'cleared',
          note: typeof req.detail?.note === 'string' ? req.detail.note : null,
          next_escalation_at: null,
          upgrade_at: null,
        });
        await appendAudit(tx, { at: now(), actor, action: 'cleared', alarmId: open.id, detail: req.detail });
        changed.push(open.id);
      }
    }
    return changed;
  }

  async function publish(changedIds: string[]): Promise<void> {
    if (changedIds.length === 0) return;
    deps.onChange(await alarms.getMany([...new Set(changedIds)]));
  }

  async function transition(
    id: string,
    actor: string,
    to: 'acknowledged' | 'resolved',
    extra: { outcome?: string; note?: string } = {},
  ): Promise<Alarm> {
    await deps.db.transaction().execute(async (tx) => {
      const row = await alarms.get(id, tx);
      if (!row) throw new AlarmError('not_found', `alarm ${id} not found`);
      if (to === 'acknowledged' && row.state !== 'active') {
        throw new AlarmError('invalid_transition', `alarm ${id} is ${row.state}, only an active alarm can be acknowledged`);
      }
      if (to === 'resolved' && row.state === 'resolved') {
        throw new AlarmError('invalid_transition', `alarm ${id} is already resolved`);
      }
      const at = now();
      if (to === 'acknowledged') {
        await alarms.update(tx, id, { state: 'acknowledged', ack_at: at, ack_by: actor, next_escalation_at: null, upgrade_at: null });
      } else {
        await alarms.update(tx, id, {
          state: 'resolved',
          resolved_at: at,
          resolved_by: actor,
          outcome: extra.outcome ?? null,
          note: extra.note ?? null,
          next_escalation_at: null,
          upgrade_at: null,
          // Resolving an unacknowledged alarm acknowledges it too.
          ...(row.state === 'active' ? { ack_at: at, ack_by: actor } : {}),
        });
      }
      await appendAudit(tx, {
        at,
        actor,
        action: to === 'acknowledged' ? 'acknowledged' : 'resolved',
        alarmId: id,
        detail: to === 'resolved' ? extra : undefined,
      });
    });
    const alarm = await alarms.get(id);
    if (!alarm) throw new AlarmError('not_found', `alarm ${id} not found`);
    deps.log.info({ alarmId: id, state: alarm.state }, 'alarm transition');
    deps.onChange([alarm]);
    return alarm;
  }

  /**
   * Moves every active alarm whose level timed out one level up. Compare-and-set on the due time,
   * so when several instances sweep, each escalation happens once.
   */
  async function escalateDue(): Promise<number> {
    const at = now();
    const due = await deps.db
      .selectFrom('alarms')
      .select(['id', 'site_id', 'priority', 'escalation_level', 'next_escalation_at'])
      .where('state', '=', 'active')
      .where('next_escalation_at', '<=', at)
      .limit(500)
      .execute();
    let moved = 0;
    const timeSlice = timeSlicer();
    for (const a of due) {
      await timeSlice();
      const policy = deps.policies.get(a.site_id);
      const level = Number(a.escalation_level) + 1;
      const won = await deps.db.transaction().execute(async (tx) => {
        const r = await tx
          .updateTable('alarms')
          .set({
            escalation_level: level,
            next_escalation_at: nextEscalation(a.site_id, level, a.priority as Priority, at),
          })
          .where('id', '=', a.id)
          .where('state', '=', 'active')
          .where('next_escalation_at', '=', a.next_escalation_at)
          .executeTakeFirst();
        if (Number(r.numUpdatedRows) !== 1) return false;
        await appendAudit(tx, {
          at,
          actor: 'system',
          action: 'escalated',
          alarmId: a.id,
          detail: { level, name: policy.levels[level]?.name ?? `level ${level}` },
        });
        return true;
      });
      if (!won) continue;
      moved += 1;
      const alarm = await alarms.get(a.id);
      if (alarm) {
        deps.log.warn({ alarmId: a.id, level }, 'alarm unanswered; escalated');
        deps.onChange([alarm]);
        deps.onEscalated?.(alarm, level, policy);
      }
    }
    return moved;
  }

  /** Held alarms whose confirmation delay passed without the cause ending are raised now. */
  async function confirmDue(): Promise<number> {
    const due = await deps.db.selectFrom('pending_alarms').selectAll().where('due_at', '<=', now()).limit(500).execute();
    const changed: string[] = [];
    const timeSlice = timeSlicer();
    for (const p of due) {
      await timeSlice();
      const ids = await deps.db.transaction().execute(async (tx) => {
        const r = await tx
          .deleteFrom('pending_alarms')
          .where('cause_key', '=', p.cause_key)
          .where('due_at', '=', p.due_at)
          .executeTakeFirst();
        if (Number(r.numDeletedRows) !== 1) return [];
        return apply(tx, [JSON.parse(p.request) as AlarmRequest], JSON.parse(p.subject) as AlarmSubject, 'system');
      });
      changed.push(...ids);
    }
    await publish(changed);
    return changed.length;
  }

  /** A bed exit with no return in time becomes high priority. */
  async function upgradeDue(): Promise<number> {
    const at = now();
    const due = await deps.db
      .selectFrom('alarms')
      .select(['id', 'site_id', 'escalation_level', 'upgrade_at'])
      .where('state', '=', 'active')
      .where('upgrade_at', '<=', at)
      .execute();
    const changed: string[] = [];
    const timeSlice = timeSlicer();
    for (const a of due) {
      await timeSlice();
      const won = await deps.db.transaction().execute(async (tx) => {
        const r = await tx
          .updateTable('alarms')
          .set({
            priority: 'high',
            upgrade_at: null,
            snoozed_until: null,
            next_escalation_at: nextEscalation(a.site_id, Number(a.escalation_level), 'high', at),
          })
          .where('id', '=', a.id)
          .where('upgrade_at', '=', a.upgrade_at)
          .executeTakeFirst();
        if (Number(r.numUpdatedRows) !== 1) return false;
        await appendAudit(tx, { at, actor: 'system', action: 'upgraded', alarmId: a.id, detail: { priority: 'high' } });
        return true;
      });
      if (won) changed.push(a.id);
    }
    await publish(changed);
    return changed.length;
  }

  /**
   * Snooze: a medium or low alarm stops escalating for a while (it stays on the screens). A
   * high-priority alarm can never be silenced.
   */
  async function snooze(id: string, actor: string, minutes: number): Promise<Alarm> {
    await deps.db.transaction().execute(async (tx) => {
      const row = await alarms.get(id, tx);
      if (!row) throw new AlarmError('not_found', `alarm ${id} not found`);
      if (row.priority === 'high') throw new AlarmError('invalid_transition', 'a high-priority alarm cannot be snoozed');
      if (row.state !== 'active')
        throw new AlarmError('invalid_transition', `alarm ${id} is ${row.state}; only an active alarm can be snoozed`);
      const at = now();
      const until = new Date(Date.parse(at) + minutes * 60_000).toISOString();
      const current = await tx.selectFrom('alarms').select('next_escalation_at').where('id', '=', id).executeTakeFirst();
      const next = current?.next_escalation_at && current.next_escalation_at > until ? current.next_escalation_at : until;
      await alarms.update(tx, id, { snoozed_until: until, next_escalation_at: current?.next_escalation_at ? next : null });
      await appendAudit(tx, { at, actor, action: 'snoozed', alarmId: id, detail: { minutes, until } });
    });
    const alarm = await alarms.get(id);
    if (!alarm) throw new AlarmError('not_found', `alarm ${id} not found`);
    deps.onChange([alarm]);
    return alarm;
  }

  /** A caregiver is with the resident: escalation pauses; the alarm still needs resolving. */
  async function markOnSite(id: string, actor: string): Promise<Alarm> {
    await deps.db.transaction().execute(async (tx) => {
      const row = await alarms.get(id, tx);
      if (!row) throw new AlarmError('not_found', `alarm ${id} not found`);
      if (row.state === 'resolved') throw new AlarmError('invalid_transition', `alarm ${id} is already resolved`);
      const at = now();
      await alarms.update(tx, id, {
        on_site_by: actor,
        next_escalation_at: null,
        ...(row.state === 'active' ? { state: 'acknowledged', ack_at: at, ack_by: actor } : {}),
      });
      await appendAudit(tx, { at, actor, action: 'on_site', alarmId: id });
    });
    const alarm = await alarms.get(id);
    if (!alarm) throw new AlarmError('not_found', `alarm ${id} not found`);
    deps.onChange([alarm]);
    return alarm;
  }

  /**
   * Takes an acknowledged alarm nobody reached back to active, at `toLevel` (response-chain.ts: an
   * acceptor who did not arrive within the site's attend time, or withdrew). Compare-and-set on the
   * acknowledgement it judged, so a late "on site" or another instance's sweep wins cleanly. The
   * level's contacts are notified when it moved up.
   */
  async function reopen(id: string, judged: { ackAt: string }, toLevel: number, reason: string): Promise<Alarm | null> {
    const at = now();
    const row = await alarms.get(id);
    if (!row) return null;
    const policy = deps.policies.get(row.siteId);
    const level = Math.min(Math.max(0, toLevel), policy.levels.length - 1);
    const won = await deps.db.transaction().execute(async (tx) => {
      const r = await tx
        .updateTable('alarms')
        .set({
          state: 'active',
          ack_at: null,
          ack_by: null,
          escalation_level: level,
          next_escalation_at: nextEscalation(row.siteId, level, row.priority, at),
        })
        .where('id', '=', id)
        .where('state', '=', 'acknowledged')
        .where('on_site_by', 'is', null)
        .where('ack_at', '=', judged.ackAt)
        .executeTakeFirst();
      if (Number(r.numUpdatedRows) !== 1) return false;
      await appendAudit(tx, {
        at,
        actor: 'system',
        action: 'reescalated',
        alarmId: id,
        detail: { reason, ackBy: row.ackBy, level, name: policy.levels[level]?.name ?? `level ${level}` },
      });
      return true;
    });
    if (!won) return null;
    const alarm = await alarms.get(id);
    if (!alarm) return null;
    deps.log.warn({ alarmId: id, level, reason }, 'acknowledged alarm not attended; escalated again');
    deps.onChange([alarm]);
    if (level > row.escalationLevel) deps.onEscalated?.(alarm, level, policy);
    return alarm;
  }

  /** Makes an active alarm at `level` due for the next level now (everyone there declined); then sweeps. */
  async function escalateNow(id: string, level: number): Promise<void> {
    await deps.db
      .updateTable('alarms')
      .set({ next_escalation_at: now() })
      .where('id', '=', id)
      .where('state', '=', 'active')
      .where('escalation_level', '=', level)
      .where('test', '=', 0)
      .execute();
    await escalateDue();
  }

  return {
    apply,
    publish,
    escalateDue,
    reopen,
    escalateNow,
    upgradeDue,
    markOnSite,
    snooze,
    confirmDue,
    acknowledge: (id: string, actor: string) => transition(id, actor, 'acknowledged'),
    resolve: (id: string, actor: string, outcome?: string, note?: string) => transition(id, actor, 'resolved', { outcome, note }),
  };
}
export type AlarmEngine = ReturnType<typeof createAlarmEngine>;

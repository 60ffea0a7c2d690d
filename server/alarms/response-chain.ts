// The response chain beyond the first message (issue 15 part 4, DESIGN.md 3.9): what happens when a
// contact accepts or declines through their link, when nobody answers, and when an accepted alarm
// is never attended.
// - decline: the level's next contact is paged at once; when nobody is left at the level (a call
//   tree's last contact, or every person of an all-at-once level declined), the next level now.
// - no answer within the level's `acceptSeconds`: the contact is paged again (`repages` times; a
//   `user` on their next channel, push then SMS), then the next contact.
// - accepted by a contact but nobody on site within the site's `attendSeconds`: the alarm goes
//   back to active one level up (presence is required after accept). A caregiver's acknowledgement
//   on the screen is not an accept: it stops escalation as before.
// The sweep runs on the alarm lane; it writes rows and offers attempts to the bounded sender, and
// never waits for a send. Every step is a compare-and-set or a once-only row, so several instances
// sweeping together page each contact once per page.
import type { Logger } from 'pino';
import type { Alarm, AlarmType } from '../../protocol/index.ts';
import type { ResponseRecord } from '../respond/tokens.ts';
import type { Db } from '../storage/registry.ts';
import type { AlarmEngine } from './engine.ts';
import { type Contact, DEFAULT_ATTEND_SECONDS, type EscalationPolicy, type PolicySource } from './escalation-policy.ts';
import type { Notifier } from './notify.ts';

/** Alarms about a person's safety: someone must get there. Technical alarms (a battery, a gateway) need no visit. */
export const ATTEND_TYPES: ReadonlySet<AlarmType> = new Set<AlarmType>([
  'call',
  'fall',
  'wander',
  'bed_exit',
  'vitals',
  'inactivity',
  ...(['smoke', 'gas', 'water_leak'] as AlarmType[]),
]);
/** Contacts who are people (can accept or decline); a webhook is a system. */
const PERSON_KINDS = new Set<string>(['user', 'sms', 'push']);
const SWEEP_LIMIT = 500;

export function repagesFor(level: EscalationPolicy['levels'][number], c: Contact): number {
  return level.repages ?? (c.kind === 'user' ? 1 : 0);
}

export interface ResponseChainDeps {
  db: Db;
  notifier: Pick<Notifier, 'page'>;
  engine: Pick<AlarmEngine, 'reopen' | 'escalateNow'>;
  policies: PolicySource;
  getAlarm(id: string): Promise<Alarm | undefined>;
  now: () => string;
  log: Logger;
}

export function createResponseChain(deps: ResponseChainDeps) {
  const { db, now, log } = deps;
  const nowMs = () => Date.parse(now());

  /** The highest contact index paged so far at a level, and the latest page to it. */
  async function lastPaged(alarmId: string, level: number) {
    const rows = await db
      .selectFrom('notifications')
      .select(['contact_index', 'page', 'created_at', 'state'])
      .where('alarm_id', '=', alarmId)
      .where('level', '=', level)
      .orderBy('contact_index', 'desc')
      .orderBy('page', 'desc')
      .limit(1)
      .execute();
    const r = rows[0];
    return r ? { index: Number(r.contact_index), page: Number(r.page ?? 0), at: r.created_at } : null;
  }

  async function declinedAt(alarmId: string, level: number): Promise<Set<string>> {
    const rows = await db
      .selectFrom('response_tokens')
      .select(['contact_kind', 'contact_target'])
      .where('alarm_id', '=', alarmId)
      .where('level', '=', level)
      .where('state', '=', 'declined')
      .limit(200)
      .execute();
    return new Set(rows.map((r) => `${r.contact_kind}:${r.contact_target}`));
  }

  /** Pages whoever is next at the alarm's level after a decline, or moves to the next level now. */
  async function next(alarm: Alarm, level: number, policy: EscalationPolicy, declinedIndex: number | null) {
    const lvl = policy.levels[level];
    if (!lvl) return;
    const declined = await declinedAt(alarm.id, level);
    if (lvl.acceptSeconds !== undefined) {
      const last = await lastPaged(alarm.id, level);
      // Someone later in the tree is already being tried: the decline changes nothing.
      if (last && declinedIndex !== null && declinedIndex < last.index) return;
      for (let i = (last?.index ?? -1) + 1; i < lvl.contacts.length; i++) {
        const c = lvl.contacts[i] as Contact;
        if (declined.has(`${c.kind}:${c.target}`)) continue;
        await deps.notifier.page(alarm, level, policy, i, 0);
        return;
      }
    } else {
      const people = lvl.contacts.filter((c) => PERSON_KINDS.has(c.kind));
      if (!people.every((c) => declined.has(`${c.kind}:${c.target}`))) return;
    }
    log.info({ alarmId: alarm.id, level }, 'everyone at this level declined; escalating now');
    await deps.engine.escalateNow(alarm.id, level);
  }

  /** Pages every person of the alarm's level once more (the next page number of each). */
  async function repageLevel(alarm: Alarm, policy: EscalationPolicy): Promise<number> {
    const level = alarm.escalationLevel;
    const contacts = policy.levels[level]?.contacts ?? [];
    let n = 0;
    for (const [i, c] of contacts.entries()) {
      if (!PERSON_KINDS.has(c.kind)) continue;
      const last = await db
        .selectFrom('notifications')
        .select((eb) => eb.fn.max('page').as('page'))
        .where('alarm_id', '=', alarm.id)
        .where('level', '=', level)
        .where('contact_index', '=', i)
        .executeTakeFirst();
      const page = last?.page === null || last?.page === undefined ? 0 : Number(last.page) + 1;
      await deps.notifier.page(alarm, level, policy, i, page);
      n += 1;
    }
    return n;
  }

  /** The contact's position in its level: from the link, else by matching the contact. */
  function indexOf(rec: ResponseRecord, policy: EscalationPolicy): number | null {
    if (rec.contactIndex !== null) return rec.contactIndex;
    const i = policy.levels[rec.level]?.contacts.findIndex((c) => c.kind === rec.contact.kind && c.target === rec.contact.target);
    return i === undefined || i < 0 ? null : i;
  }

  return {
    /** Through a link: the contact's messages for this alarm are marked accepted (the route acknowledged it). */
    async accepted(rec: ResponseRecord, _alarm: Alarm): Promise<void> {
      await db
        .updateTable('notifications')
        .set({ state: 'accepted', receipt_at: now() })
        .where('alarm_id', '=', rec.alarmId)
        .where('level', '=', rec.level)
        .where('target', '=', rec.contact.target)
        .execute();
    },

    /** Through a link: the next contact at once; an acceptor who withdraws (not on site) reopens the alarm. */
    async declined(rec: ResponseRecord, alarm: Alarm): Promise<void> {
      const policy = deps.policies.get(alarm.siteId);
      let current = alarm;
      if (alarm.state === 'acknowledged' && !alarm.onSiteBy && alarm.ackBy === rec.contact.name && alarm.ackAt) {
        const reopened = await deps.engine.reopen(alarm.id, { ackAt: alarm.ackAt }, alarm.escalationLevel, 'acceptor_withdrew');
        if (!reopened) return;
        current = reopened;
      }
      if (current.state !== 'active' || current.test || current.escalationLevel !== rec.level) return;
      await next(current, rec.level, policy, indexOf(rec, policy));
    },

    /** Runs on the alarm lane: re-pages, call-tree hand-overs, and alarms accepted but never attended. */
    async sweep(): Promise<{ paged: number; reopened: number }> {
      let paged = 0;
      let reopened = 0;
      // Call trees and re-pages: for each active alarm, the contact paged last at its current level.
      const open = await db
        .selectFrom('notifications')
        .innerJoin('alarms', 'alarms.id', 'notifications.alarm_id')
        .select([
          'notifications.alarm_id as alarmId',
          'notifications.level as level',
          (eb) => eb.fn.max('notifications.created_at').as('since'),
        ])
        .where('alarms.state', '=', 'active')
        .whereRef('notifications.level', '=', 'alarms.escalation_level')
        .groupBy(['notifications.alarm_id', 'notifications.level'])
        .limit(SWEEP_LIMIT)
        .execute();
      for (const o of open) {
        const alarm = await deps.getAlarm(o.alarmId);
        if (alarm?.state !== 'active' || alarm.test) continue;
        const policy = deps.policies.get(alarm.siteId);
        const level = Number(o.level);
        const lvl = policy.levels[level];
        if (lvl?.acceptSeconds === undefined) continue;
        if (nowMs() - Date.parse(String(o.since)) < lvl.acceptSeconds * 1000) continue;
        // Judged on the latest page itself, read afresh: another instance sweeping at the same time
        // may have just paged (then this one waits a full acceptSeconds again, not hands over).
        const last = await lastPaged(alarm.id, level);
        if (!last || nowMs() - Date.parse(last.at) < lvl.acceptSeconds * 1000) continue;
        const c = lvl.contacts[last.index];
        const declined = c ? (await declinedAt(alarm.id, level)).has(`${c.kind}:${c.target}`) : true;
        if (c && !declined && last.page < repagesFor(lvl, c)) {
          log.info({ alarmId: alarm.id, level, contact: last.index, page: last.page + 1 }, 'no answer; paging the contact again');
          await deps.notifier.page(alarm, level, policy, last.index, last.page + 1);
          paged += 1;
          continue;
        }
        for (let i = last.index + 1; i < lvl.contacts.length; i++) {
          const nextContact = lvl.contacts[i] as Contact;
          if ((await declinedAt(alarm.id, level)).has(`${nextContact.kind}:${nextContact.target}`)) continue;
          await deps.notifier.page(alarm, level, policy, i, 0);
          paged += 1;
          break;
        }
      }
      // Accepted but not attended. The cheapest attend time bounds the query; each site's own is
      // checked below.
      const oldest = new Date(nowMs() - 60_000).toISOString();
      const acked = await db
        .selectFrom('alarms')
        .select(['id', 'site_id', 'type', 'ack_at'])
        .where('state', '=', 'acknowledged')
        .where('on_site_by', 'is', null)
        .where('test', '=', 0)
        .where('ack_at', '<=', oldest)
        // Accepted by a contact the chain reached (a link, a push action, a receipt). An on-duty
        // caregiver's acknowledgement on the screen stops escalation as it always did (DESIGN 3.8).
        .where((eb) =>
          eb.or([
            eb.exists(
              eb
                .selectFrom('response_tokens')
                .select('response_tokens.token_hash')
                .whereRef('response_tokens.alarm_id', '=', 'alarms.id')
                .where('response_tokens.state', '=', 'accepted'),
            ),
            eb.exists(
              eb
                .selectFrom('notifications')
                .select('notifications.id')
                .whereRef('notifications.alarm_id', '=', 'alarms.id')
                .where('notifications.state', '=', 'accepted'),
            ),
          ]),
        )
        .orderBy('ack_at')
        .limit(SWEEP_LIMIT)
        .execute();
      for (const a of acked) {
        if (!ATTEND_TYPES.has(a.type as AlarmType) || !a.ack_at) continue;
        const policy = deps.policies.get(a.site_id);
        const attendMs = (policy.attendSeconds ?? DEFAULT_ATTEND_SECONDS) * 1000;
        if (nowMs() - Date.parse(a.ack_at) < attendMs) continue;
        const alarm = await deps.getAlarm(a.id);
        if (!alarm) continue;
        const r = await deps.engine.reopen(a.id, { ackAt: a.ack_at }, alarm.escalationLevel + 1, 'not_on_site');
        if (!r) continue;
        reopened += 1;
        // Already at the last level: nobody new to notify, so its people are paged again.
        if (r.escalationLevel <= alarm.escalationLevel) paged += await repageLevel(r, policy);
      }
      return { paged, reopened };
    },
  };
}
export type ResponseChain = ReturnType<typeof createResponseChain>;

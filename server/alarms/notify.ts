// Notifications for escalated alarms, through channels behind one interface. The WebSocket feed
// always carries every change; contacts of a level get a webhook (signed, retried with backoff
// until it succeeds: at least once) or an SMS/voice message queued for an operator's gateway to
// pick up. Every attempt is recorded, and audited.
import { createHmac } from 'node:crypto';
import type { Logger } from 'pino';
import type { Alarm, IdSource } from '../../protocol/index.ts';
import { appendAudit } from '../storage/alarms.ts';
import type { Db } from '../storage/registry.ts';
import type { NotificationsTable } from '../storage/tables.ts';
import type { Contact, EscalationPolicy } from './escalation-policy.ts';

export interface Notification {
  id: string;
  alarmId: string;
  level: number;
  target: string;
  body: string;
  secret?: string;
}
export type Receipt = { ok: true } | { ok: false; error: string; retry: boolean };

export interface Channel {
  send(n: Notification): Promise<Receipt>;
}

export const signature = (body: string, secret: string) => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

export function webhookChannel(timeoutMs = 5000): Channel {
  return {
    async send(n) {
      try {
        const res = await fetch(n.target, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(n.secret ? { 'x-care-signature': signature(n.body, n.secret) } : {}) },
          body: n.body,
          signal: AbortSignal.timeout(timeoutMs),
        });
        return res.ok ? { ok: true } : { ok: false, error: `HTTP ${res.status}`, retry: true };
      } catch (err) {
        return { ok: false, error: (err as Error).message, retry: true };
      }
    },
  };
}

const MAX_ATTEMPTS = 12;
/**
 * An attempt claims its row for this long (several instances share the table, and each retries
 * what is due): longer than a webhook's timeout, so two never send at once; and if the claiming
 * instance dies mid-attempt, another takes the row over once the lease is up.
 */
const LEASE_MS = 60_000;
const backoffMs = (attempts: number) => Math.min(5_000 * 2 ** (attempts - 1), 15 * 60_000);

export interface NotifierDeps {
  db: Db;
  ids: IdSource;
  now: () => string;
  log: Logger;
  channels: { webhook: Channel };
}

export function createNotifier(deps: NotifierDeps) {
  const { db, now, log } = deps;

  async function attempt(row: NotificationsTable, secret: string | undefined) {
    const channel = row.channel === 'webhook' ? deps.channels.webhook : null;
    if (!channel) return;
    const receipt = await channel.send({
      id: row.id,
      alarmId: row.alarm_id,
      level: row.level,
      target: row.target,
      body: row.payload,
      secret,
    });
    const attempts = row.attempts + 1;
    const at = now();
    const failed = !receipt.ok && (!receipt.retry || attempts >= MAX_ATTEMPTS);
    await db
      .updateTable('notifications')
      .set({
        attempts,
        state: receipt.ok ? 'delivered' : failed ? 'failed' : 'pending',
        last_error: receipt.ok ? null : receipt.error,
        next_attempt_at: receipt.ok || failed ? null : new Date(Date.parse(at) + backoffMs(attempts)).toISOString(),
      })
      .where('id', '=', row.id)
      .execute();
    await appendAudit(db, {
      at,
      actor: 'system',
      action: receipt.ok ? 'notify.delivered' : 'notify.failed_attempt',
      alarmId: row.alarm_id,
      subject: `${row.channel}:${row.target}`,
      detail: { notificationId: row.id, attempt: attempts, ...(receipt.ok ? {} : { error: receipt.error }) },
    });
    if (!receipt.ok)
      log.warn({ alarmId: row.alarm_id, channel: row.channel, attempt: attempts, error: receipt.error }, 'notification failed');
  }

  const secrets = new Map<string, string | undefined>();

  async function notify(alarm: Alarm, level: number, policy: EscalationPolicy, c: Contact, index: number) {
    const row: NotificationsTable = {
      id: deps.ids.next(),
      alarm_id: alarm.id,
      level,
      channel: c.kind,
      target: c.target,
      payload: JSON.stringify({ type: 'alarm', level, alarm }),
      // SMS and voice wait in the outbox for an operator's gateway; screens already have it.
      state: c.kind === 'sms' ? 'queued' : c.kind === 'user' ? 'delivered' : 'pending',
      attempts: 0,
      // The first attempt follows at once, under this lease: if this instance dies before it ends,
      // another instance's retry takes the row when the lease is up.
      next_attempt_at: c.kind === 'webhook' ? new Date(Date.parse(now()) + LEASE_MS).toISOString() : null,
      last_error: null,
      created_at: now(),
      contact_index: index,
      receipt_at: null,
    };
    // One row per alarm, level and contact: when two instances both find a call tree's next
    // contact due, only one inserts it, and only that one notifies.
    const inserted = await db
      .insertInto('notifications')
      .values(row)
      .onConflict((oc) => oc.columns(['alarm_id', 'level', 'contact_index']).doNothing())
      .executeTakeFirst();
    if (Number(inserted.numInsertedOrUpdatedRows ?? 0) !== 1) return;
    await appendAudit(db, {
      at: now(),
      actor: 'system',
      action: `notify.${row.state}`,
      alarmId: alarm.id,
      subject: `${c.kind}:${c.target}`,
      detail: { level },
    });
    if (c.kind === 'webhook') {
      secrets.set(row.id, policy.webhookSecret);
      await attempt(row, policy.webhookSecret);
    }
  }

  return {
    /** Queues the level's contacts and tries each at once. */
    /** Notifies a level's contacts: all at once, or the first of a call tree (`acceptSeconds`). */
    async escalated(alarm: Alarm, level: number, policy: EscalationPolicy) {
      const contacts: Contact[] = policy.levels[level]?.contacts ?? [];
      const tree = policy.levels[level]?.acceptSeconds !== undefined;
      for (const [index, c] of contacts.entries()) {
        await notify(alarm, level, policy, c, index);
        if (tree) break;
      }
    },
    /**
     * Call trees: a contact who has not accepted within the level's `acceptSeconds` hands over to the
     * next one, for as long as the alarm is unacknowledged.
     */
    async fallbackDue(alarmOf: (id: string) => Promise<Alarm | undefined>, policyFor: (alarm: Alarm) => EscalationPolicy) {
      const open = await db
        .selectFrom('notifications')
        .select(['alarm_id', 'level', (eb) => eb.fn.max('contact_index').as('last'), (eb) => eb.fn.max('created_at').as('since')])
        .where('state', '<>', 'accepted')
        .groupBy(['alarm_id', 'level'])
        .limit(1000)
        .execute();
      for (const n of open) {
        const alarm = await alarmOf(n.alarm_id);
        if (alarm?.state !== 'active' || alarm.escalationLevel !== Number(n.level)) continue;
        const level = policyFor(alarm).levels[Number(n.level)];
        if (level?.acceptSeconds === undefined) continue;
        if (Date.parse(now()) - Date.parse(String(n.since)) < level.acceptSeconds * 1000) continue;
        const accepted = await db
          .selectFrom('notifications')
          .select('id')
          .where('alarm_id', '=', n.alarm_id)
          .where('level', '=', Number(n.level))
          .where('state', '=', 'accepted')
          .executeTakeFirst();
        const next = Number(n.last) + 1;
        const contact = level.contacts[next];
        if (accepted || !contact) continue;
        await notify(alarm, Number(n.level), policyFor(alarm), contact, next);
      }
    },
    /** A receipt from the recipient's side: seen, or accepted (which acknowledges the alarm). */
    async receipt(id: string, status: 'delivered' | 'seen' | 'accepted', actor: string) {
      const row = await db.selectFrom('notifications').selectAll().where('id', '=', id).executeTakeFirst();
      if (!row) return null;
      const order = ['failed', 'pending', 'queued', 'delivered', 'seen', 'accepted'];
      if (order.indexOf(status) > order.indexOf(row.state)) {
        await db.updateTable('notifications').set({ state: status, receipt_at: now() }).where('id', '=', id).execute();
      }
      await appendAudit(db, {
        at: now(),
        actor,
        action: `notify.${status}`,
        alarmId: row.alarm_id,
        subject: `${row.channel}:${row.target}`,
      });
      return {
        id,
        alarmId: row.alarm_id,
        state: order.indexOf(status) > order.indexOf(row.state) ? status : row.state,
        target: row.target,
        channel: row.channel,
      };
    },
    /** Retries webhooks whose backoff has passed. */
    async retryDue(policyFor: (alarmId: string) => Promise<EscalationPolicy>) {
      const due = await db
        .selectFrom('notifications')
        .selectAll()
        .where('state', '=', 'pending')
        .where('next_attempt_at', '<=', now())
        .limit(100)
        .execute();
      for (const row of due) {
        // Claim it first: of several instances finding the same row due, one sends.
        const claimed = await db
          .updateTable('notifications')
          .set({ next_attempt_at: new Date(Date.parse(now()) + LEASE_MS).toISOString() })
          .where('id', '=', row.id)
          .where('state', '=', 'pending')
          .where('next_attempt_at', '=', row.next_attempt_at)
          .executeTakeFirst();
        if (Number(claimed.numUpdatedRows) !== 1) continue;
        const secret = secrets.has(row.id) ? secrets.get(row.id) : (await policyFor(row.alarm_id)).webhookSecret;
        await attempt(row, secret);
      }
    },
    async list(filter: { channel?: string; state?: string }) {
      let q = db.selectFrom('notifications').selectAll().orderBy('created_at').limit(500);
      if (filter.channel) q = q.where('channel', '=', filter.channel);
      if (filter.state) q = q.where('state', '=', filter.state as NotificationsTable['state']);
      return q.execute();
    },
    async markDelivered(id: string, actor: string) {
      const r = await db
        .updateTable('notifications')
        .set({ state: 'delivered' })
        .where('id', '=', id)
        .where('state', '=', 'queued')
        .executeTakeFirst();
      if (Number(r.numUpdatedRows) === 1) {
        const row = await db.selectFrom('notifications').select(['alarm_id', 'channel', 'target']).where('id', '=', id).executeTakeFirst();
        if (row)
          await appendAudit(db, {
            at: now(),
            actor,
            action: 'notify.delivered',
            alarmId: row.alarm_id,
            subject: `${row.channel}:${row.target}`,
          });
        return true;
      }
      return false;
    },
  };
}
export type Notifier = ReturnType<typeof createNotifier>;

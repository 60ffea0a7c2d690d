// Notifications for escalated alarms, through channels behind one interface. The WebSocket feed
// always carries every change; contacts of a level get a webhook (signed, retried with backoff
// until it succeeds: at least once), or a message to a person's phone (Web Push, SMS: the channels
// in server/channels/, each message with its response link). Attempts go through the bounded sender (`sender.ts`), so nothing that escalates waits for
// one; one contact gets at most a capped number of messages in a window. Every attempt is recorded,
// and audited.
import { createHmac } from 'node:crypto';
import type { Logger } from 'pino';
import { backoffDelay } from '../../protocol/backoff.ts';
import type { Alarm, IdSource } from '../../protocol/index.ts';
import { appendAudit } from '../storage/alarms.ts';
import type { Db } from '../storage/registry.ts';
import type { NotificationsTable } from '../storage/tables.ts';
import type { Contact, EscalationPolicy } from './escalation-policy.ts';
import type { Sender } from './sender.ts';

export interface Notification {
  id: string;
  alarmId: string;
  level: number;
  target: string;
  body: string;
  secret?: string;
  /** 0: the first message to this contact for the alarm and level; more: a re-page (response-chain.ts). */
  page?: number;
}
/**
 * One attempt's outcome. `state: 'sent'`: the provider took it (an SMSC, a push service) and may
 * report delivery later (by `providerId`); without it, the peer itself answered (a webhook).
 */
export type Receipt = { ok: true; state?: 'sent' | 'delivered'; providerId?: string | null } | { ok: false; error: string; retry: boolean };

export interface Channel {
  /** What one concurrency limit covers: a webhook's origin, a phone number. */
  endpoint(target: string): string;
  /** One attempt; it should give up when `signal` aborts (the sender's time budget). */
  send(n: Notification, signal: AbortSignal): Promise<Receipt>;
}

export const signature = (body: string, secret: string) => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

export function webhookChannel(): Channel {
  return {
    endpoint(target) {
      try {
        return `webhook:${new URL(target).origin}`;
      } catch {
        return `webhook:${target}`;
      }
    },
    async send(n, signal) {
      try {
        const res = await fetch(n.target, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(n.secret ? { 'x-care-signature': signature(n.body, n.secret) } : {}) },
          body: n.body,
          signal,
        });
        // Read (and drop) the answer so the connection goes back to the pool.
        await res.arrayBuffer().catch(() => undefined);
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
 * what is due): far longer than an attempt's budget, so two never send at once; and if the
 * claiming instance dies mid-attempt, another takes the row over once the lease is up. The lease is
 * renewed when an attempt actually starts, so time spent waiting for a slot does not count.
 */
const LEASE_MS = 60_000;
/** A webhook's next attempt: 5 s, doubling to 15 min; written down, so without jitter. */
const backoffMs = (attempts: number) => backoffDelay(attempts - 1, { baseMs: 5_000, capMs: 15 * 60_000, minShare: 1 });
/** A due retry whose endpoint has its fill of retries waiting is looked at again after this. */
const ENDPOINT_BUSY_MS = 5_000;

/** At most `perContact` messages to one contact in any `windowMs`; the next is a notice, the rest wait on screens. */
export interface ContactCap {
  perContact: number;
  windowMs: number;
}
export const defaultContactCap: ContactCap = { perContact: 10, windowMs: 10 * 60_000 };

export interface NotifierDeps {
  db: Db;
  ids: IdSource;
  now: () => string;
  log: Logger;
  /**
   * A channel per contact kind. `user`, `sms` and `push` reach a person (server/channels/): their
   * message carries a response link, written by `messages`. Without an `sms` channel, SMS rows wait
   * in the outbox (`queued`) for an operator's gateway, as before there were providers.
   */
  channels: { webhook: Channel; user?: Channel; sms?: Channel; push?: Channel };
  /** Writes a person's message (with its response link) for a notification row. */
  messages?: {
    compose(alarm: Alarm, level: number, c: Contact, index: number, notice: boolean): Promise<unknown>;
  };
  /** Every attempt goes through it; nothing here waits for one. */
  sender: Sender;
  cap?: ContactCap;
}

export function createNotifier(deps: NotifierDeps) {
  const { db, now, log, sender } = deps;
  const cap = deps.cap ?? defaultContactCap;
  const at = (ms: number) => new Date(Date.parse(now()) + ms).toISOString();
  const channelFor = (kind: string): Channel | null => deps.channels[kind as keyof NotifierDeps['channels']] ?? null;

  /** Moves a pending row's `next_attempt_at` from `from` to `to` unless someone moved it first (a claim,
   *  its renewal or its return); true if this call moved it. */
  async function moveDue(id: string, from: string | null, to: string | null): Promise<boolean> {
    const r = await db
      .updateTable('notifications')
      .set({ next_attempt_at: to })
      .where('id', '=', id)
      .where('state', '=', 'pending')
      .where('next_attempt_at', '=', from)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  /** Offers one attempt of a claimed row (its `next_attempt_at` is `lease`); false if the sender is full. */
  function offer(row: NotificationsTable, lease: string, first: boolean, secret: () => Promise<string | undefined>): boolean {
    const channel = channelFor(row.channel);
    if (!channel) return true;
    let held = lease;
    return sender.offer({
      id: row.id,
      endpoint: channel.endpoint(row.target),
      first,
      async attempt(signal) {
        // Renew the claim now that a slot is free: if the lease ran out while this waited, another
        // instance may have taken the row, and then it is theirs.
        const renewed = at(LEASE_MS);
        if (!(await moveDue(row.id, held, renewed))) return 'skipped';
        held = renewed;
        return channel.send(
          {
            id: row.id,
            alarmId: row.alarm_id,
            level: row.level,
            target: row.target,
            body: row.payload,
            secret: await secret(),
            page: Number(row.page ?? 0),
          },
          signal,
        );
      },
      record: (receipt) => record(row, receipt),
    });
  }

  async function record(row: NotificationsTable, receipt: Receipt) {
    const attempts = row.attempts + 1;
    const when = now();
    const failed = !receipt.ok && (!receipt.retry || attempts >= MAX_ATTEMPTS);
    await db
      .updateTable('notifications')
      .set({
        attempts,
        state: receipt.ok ? (receipt.state ?? 'delivered') : failed ? 'failed' : 'pending',
        ...(receipt.ok && receipt.providerId ? { provider_id: receipt.providerId } : {}),
        last_error: receipt.ok ? null : receipt.error,
        next_attempt_at: receipt.ok || failed ? null : new Date(Date.parse(when) + backoffMs(attempts)).toISOString(),
      })
      .where('id', '=', row.id)
      .where('state', '=', 'pending')
      .execute();
    await appendAudit(db, {
      at: when,
      actor: 'system',
      action: receipt.ok ? `notify.${receipt.state ?? 'delivered'}` : 'notify.failed_attempt',
      alarmId: row.alarm_id,
      subject: `${row.channel}:${row.target}`,
      detail: { notificationId: row.id, attempt: attempts, ...(receipt.ok ? {} : { error: receipt.error }) },
    });
    if (!receipt.ok)
      log.warn({ alarmId: row.alarm_id, channel: row.channel, attempt: attempts, error: receipt.error }, 'notification failed');
  }

  /**
   * Whether a contact may get another message now: under the cap, send; the first one over it
   * goes out as a notice that more are held back; beyond that, suppressed (screens still show all).
   */
  async function capFor(c: Contact): Promise<{ decision: 'send' | 'notice' | 'suppress'; until?: string }> {
    const since = at(-cap.windowMs);
    const sent = await db
      .selectFrom('notifications')
      .select([(eb) => eb.fn.countAll<number>().as('n'), (eb) => eb.fn.min('created_at').as('oldest')])
      .where('target', '=', c.target)
      .where('channel', '=', c.kind)
      .where('created_at', '>=', since)
      .where('state', '<>', 'suppressed')
      .executeTakeFirst();
    const n = Number(sent?.n ?? 0);
    if (n < cap.perContact) return { decision: 'send' };
    const until = new Date(Date.parse(String(sent?.oldest ?? now())) + cap.windowMs).toISOString();
    return { decision: n === cap.perContact ? 'notice' : 'suppress', until };
  }

  /** One contact's messages are decided one at a time, so concurrent escalations cannot pass the cap together. */
  const contactTurns = new Map<string, Promise<unknown>>();
  function inTurn<T>(c: Contact, fn: () => Promise<T>): Promise<T> {
    const key = `${c.kind}:${c.target}`;
    const next = (contactTurns.get(key) ?? Promise.resolve()).then(fn, fn);
    const settled = next.catch(() => undefined);
    contactTurns.set(key, settled);
    void settled.then(() => {
      if (contactTurns.get(key) === settled) contactTurns.delete(key);
    });
    return next;
  }

  /** `page` 0 is the first message to the contact for this alarm and level; 1, 2... are re-pages. */
  function notify(alarm: Alarm, level: number, policy: EscalationPolicy, c: Contact, index: number, page = 0) {
    return inTurn(c, () => notifyNow(alarm, level, policy, c, index, page));
  }

  async function notifyNow(alarm: Alarm, level: number, policy: EscalationPolicy, c: Contact, index: number, page: number) {
    const { decision, until } = await capFor(c);
    const channel = channelFor(c.kind);
    const person = c.kind !== 'webhook';
    // A person's message carries their response link: issued here, once, and stored with the row.
    const payload =
      person && channel && deps.messages && decision !== 'suppress'
        ? await deps.messages.compose(alarm, level, c, index, decision === 'notice')
        : decision === 'notice'
          ? { type: 'alarm', level, alarm, capped: { limit: cap.perContact, windowSeconds: cap.windowMs / 1000, until } }
          : { type: 'alarm', level, alarm };
    const sendable = channel !== null && decision !== 'suppress';
    const row: NotificationsTable = {
      id: deps.ids.next(),
      alarm_id: alarm.id,
      level,
      channel: c.kind,
      target: c.target,
      payload: JSON.stringify(payload),
      // Without a channel, SMS waits in the outbox for an operator's gateway; anything else fails
      // visibly (nothing is recorded as delivered that was not).
      state: decision === 'suppress' ? 'suppressed' : sendable ? 'pending' : c.kind === 'sms' ? 'queued' : 'failed',
      attempts: 0,
      // The first attempt is offered at once, under this lease: if this instance dies before it
      // ends, another instance's retry takes the row when the lease is up.
      next_attempt_at: sendable ? at(LEASE_MS) : null,
      last_error: sendable || decision === 'suppress' || c.kind === 'sms' ? null : `no channel for ${c.kind} contacts`,
      created_at: now(),
      contact_index: index,
      page,
      receipt_at: null,
      provider_id: null,
    };
    // One row per alarm, level and contact: when two instances both find a call tree's next
    // contact due, only one inserts it, and only that one notifies.
    const inserted = await db
      .insertInto('notifications')
      .values(row)
      .onConflict((oc) => oc.columns(['alarm_id', 'level', 'contact_index', 'page']).doNothing())
      .executeTakeFirst();
    if (Number(inserted.numInsertedOrUpdatedRows ?? 0) !== 1) return;
    await appendAudit(db, {
      at: now(),
      actor: 'system',
      action: `notify.${row.state}`,
      alarmId: alarm.id,
      subject: `${c.kind}:${c.target}`,
      detail: { level, ...(decision === 'send' ? {} : { cap: decision, limit: cap.perContact, until }) },
    });
    if (decision === 'suppress') {
      log.warn({ alarmId: alarm.id, channel: c.kind, level }, 'notification held back: contact over its cap');
      return;
    }
    if (sendable && row.next_attempt_at) {
      if (!offer(row, row.next_attempt_at, true, async () => (c.kind === 'webhook' ? policy.webhookSecret : undefined))) {
        // The sender is full: the row is due at once, and the retry sweep offers it when there is room.
        await moveDue(row.id, row.next_attempt_at, now());
        log.warn({ alarmId: alarm.id, notificationId: row.id }, 'sender full; notification left for the retry sweep');
      }
    }
  }

  return {
    /**
     * Notifies a level's contacts: all at once, or the first of a call tree (`acceptSeconds`). A
     * contact listed twice in the level is notified once. Resolves once the rows are written and
     * the attempts offered to the sender, not when they are delivered.
     */
    /**
     * Pages one contact of a level (response-chain.ts: the next one after a decline or an
     * unanswered wait, or the same one again with `page` > 0). Once per alarm, level, contact and page.
     */
    async page(alarm: Alarm, level: number, policy: EscalationPolicy, index: number, page: number) {
      const c = policy.levels[level]?.contacts[index];
      if (c) await notify(alarm, level, policy, c, index, page);
    },
    async escalated(alarm: Alarm, level: number, policy: EscalationPolicy) {
      const contacts: Contact[] = policy.levels[level]?.contacts ?? [];
      const tree = policy.levels[level]?.acceptSeconds !== undefined;
      const seen = new Set<string>();
      for (const [index, c] of contacts.entries()) {
        const key = `${c.kind}:${c.target}`;
        if (seen.has(key)) continue;
        seen.add(key);
        await notify(alarm, level, policy, c, index);
        if (tree) break;
      }
    },
    /** A receipt from the recipient's side: seen, or accepted (which acknowledges the alarm). */
    async receipt(id: string, status: 'delivered' | 'seen' | 'accepted', actor: string) {
      const row = await db.selectFrom('notifications').selectAll().where('id', '=', id).executeTakeFirst();
      if (!row) return null;
      const order = ['failed', 'pending', 'queued', 'sent', 'delivered', 'seen', 'accepted'];
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
    /**
     * Offers the sender the webhooks whose backoff has passed, as many as its retry queue takes
     * now; never waits for an attempt.
     */
    async retryDue(policyFor: (alarmId: string) => Promise<EscalationPolicy>) {
      const room = sender.retryRoom();
      if (room === 0) return;
      const due = await db
        .selectFrom('notifications')
        .selectAll()
        .where('state', '=', 'pending')
        .where('next_attempt_at', '<=', now())
        .orderBy('next_attempt_at')
        .limit(Math.min(room, 100))
        .execute();
      for (const row of due) {
        if (sender.has(row.id)) continue;
        const channel = channelFor(row.channel);
        if (!channel) continue;
        if (!sender.accepts(channel.endpoint(row.target), false)) {
          // Its endpoint already has as many retries waiting as it may: look again a little later,
          // so that the next sweep reaches other endpoints' rows (no attempt is counted).
          await moveDue(row.id, row.next_attempt_at, at(ENDPOINT_BUSY_MS));
          continue;
        }
        // Claim it first: of several instances finding the same row due, one sends.
        const lease = at(LEASE_MS);
        if (!(await moveDue(row.id, row.next_attempt_at, lease))) continue;
        // Read from the policy (cached) at each retry: a map of secrets per row grew with every row
        // the sender refused or another instance took.
        const secret = async () => (row.channel === 'webhook' ? (await policyFor(row.alarm_id)).webhookSecret : undefined);
        if (!offer(row, lease, false, secret)) {
          // Full after all: give the claim back so a later sweep (here or elsewhere) takes it.
          await moveDue(row.id, lease, row.next_attempt_at);
          if (sender.retryRoom() === 0) break;
        }
      }
    },
    /** Oldest first (an operator's gateway works through them in order), or the newest 500 for a screen. */
    async list(filter: { channel?: string; state?: string; order?: 'oldest' | 'newest' }) {
      let q = db
        .selectFrom('notifications')
        .selectAll()
        .orderBy('created_at', filter.order === 'newest' ? 'desc' : 'asc')
        .limit(500);
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

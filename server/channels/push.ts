// Web Push (RFC 8030) to the dashboard installed on a phone: VAPID (RFC 8292) signs each request,
// the payload is encrypted for the browser's keys (RFC 8291, aes128gcm), both by the `web-push`
// library; the request itself goes out with fetch so the sender's time budget can cut it short. A
// subscription the push service no longer knows (404/410) is removed.
import fs from 'node:fs';
import path from 'node:path';
import webPush from 'web-push';
import type { IdSource } from '../../protocol/index.ts';
import type { Channel, Receipt } from '../alarms/notify.ts';
import type { Db } from '../storage/registry.ts';
import type { PushSubscriptionsTable } from '../storage/tables.ts';
import { checkPersonMessage } from './message.ts';

export interface VapidKeys {
  publicKey: string;
  privateKey: string;
}

/**
 * The configured key pair or, without one, the pair kept in `<dataDir>/vapid.json` (mode 0600),
 * generated on the first start: subscriptions are bound to the public key, so it must not change.
 */
export function loadVapidKeys(dataDir: string, configured: VapidKeys | null): VapidKeys {
  if (configured) return configured;
  const file = path.join(dataDir, 'vapid.json');
  try {
    const stored = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<VapidKeys>;
    if (typeof stored.publicKey === 'string' && typeof stored.privateKey === 'string')
      return { publicKey: stored.publicKey, privateKey: stored.privateKey };
    throw new Error(`${file}: not a VAPID key pair; remove it to generate a new one (phones must then subscribe again)`);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const keys = webPush.generateVAPIDKeys();
  fs.mkdirSync(dataDir, { recursive: true });
  try {
    // 'wx': of two instances starting on one data directory, one writes; the other reads its pair.
    fs.writeFileSync(file, JSON.stringify(keys), { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return loadVapidKeys(dataDir, null);
    throw err;
  }
  return keys;
}

/** Subscriptions per user; a user's browsers beyond this replace their oldest. */
export const MAX_SUBSCRIPTIONS_PER_USER = 10;

export interface NewSubscription {
  endpoint: string;
  keys: { p256dh: string; auth: string };
}

export function createPushSubscriptions(db: Db, ids: IdSource, now: () => string) {
  return {
    /** Registers (or re-registers, same endpoint) a browser of a user; returns its id. */
    async add(userId: string, sub: NewSubscription): Promise<PushSubscriptionsTable> {
      const row: PushSubscriptionsTable = {
        id: ids.next(),
        user_id: userId,
        endpoint: sub.endpoint,
        p256dh: sub.keys.p256dh,
        auth: sub.keys.auth,
        created_at: now(),
        last_success_at: null,
        last_failure_at: null,
        last_error: null,
      };
      // One endpoint is one browser: a new subscription from it (another login, new keys) replaces the old.
      await db.deleteFrom('push_subscriptions').where('endpoint', '=', sub.endpoint).execute();
      await db.insertInto('push_subscriptions').values(row).execute();
      const mine = await db
        .selectFrom('push_subscriptions')
        .select('id')
        .where('user_id', '=', userId)
        .orderBy('created_at', 'desc')
        .orderBy('id', 'desc')
        .execute();
      const extra = mine.slice(MAX_SUBSCRIPTIONS_PER_USER).map((r) => r.id);
      if (extra.length > 0) await db.deleteFrom('push_subscriptions').where('id', 'in', extra).execute();
      return row;
    },
    async get(id: string) {
      return db.selectFrom('push_subscriptions').selectAll().where('id', '=', id).executeTakeFirst();
    },
    async forUser(userId: string) {
      return db
        .selectFrom('push_subscriptions')
        .selectAll()
        .where('user_id', '=', userId)
        .orderBy('created_at', 'desc')
        .limit(MAX_SUBSCRIPTIONS_PER_USER)
        .execute();
    },
    /** Removes a subscription; with `userId`, only if it is theirs. True if one was removed. */
    async remove(id: string, userId?: string): Promise<boolean> {
      let q = db.deleteFrom('push_subscriptions').where('id', '=', id);
      if (userId !== undefined) q = q.where('user_id', '=', userId);
      return Number((await q.executeTakeFirst()).numDeletedRows) === 1;
    },
    async succeeded(id: string) {
      await db.updateTable('push_subscriptions').set({ last_success_at: now(), last_error: null }).where('id', '=', id).execute();
    },
    async failed(id: string, error: string) {
      await db
        .updateTable('push_subscriptions')
        .set({ last_failure_at: now(), last_error: error.slice(0, 200) })
        .where('id', '=', id)
        .execute();
    },
  };
}
export type PushSubscriptions = ReturnType<typeof createPushSubscriptions>;

export interface PushOptions {
  vapid: VapidKeys;
  subject: string;
  subscriptions: PushSubscriptions;
  /** Seconds the push service keeps a message for a phone that is off [3600]. */
  ttlSeconds?: number;
}

/** What the service worker receives (decrypted): enough to show the notification and answer it. */
export interface PushPayload {
  type: 'alarm';
  alarmId: string;
  title: string;
  body: string;
  url: string;
  token: string;
}

/** The notification's JSON body (a PersonMessage) as the push payload; null if it is not one. */
export function pushPayloadOf(body: string): PushPayload | null {
  let m: unknown;
  try {
    m = JSON.parse(body);
  } catch {
    return null;
  }
  if (!checkPersonMessage.Check(m)) return null;
  return { type: 'alarm', alarmId: m.alarmId, title: m.title, body: m.text, url: m.url, token: m.token };
}

export function createPushSender(opts: PushOptions) {
  const { subscriptions } = opts;
  /** Sends one payload to one stored subscription. */
  async function sendTo(sub: PushSubscriptionsTable, payload: PushPayload, signal: AbortSignal): Promise<Receipt> {
    let details: ReturnType<typeof webPush.generateRequestDetails>;
    try {
      details = webPush.generateRequestDetails(
        { endpoint: sub.endpoint, keys: { p256dh: sub.p256dh, auth: sub.auth } },
        JSON.stringify(payload),
        {
          vapidDetails: { subject: opts.subject, publicKey: opts.vapid.publicKey, privateKey: opts.vapid.privateKey },
          TTL: opts.ttlSeconds ?? 3600,
          urgency: 'high',
          contentEncoding: 'aes128gcm',
        },
      );
    } catch (err) {
      // Bad keys stored for this browser: it can never be reached; it must subscribe again.
      await subscriptions.remove(sub.id);
      return { ok: false, error: `push subscription unusable: ${(err as Error).message}`, retry: false };
    }
    let res: Response;
    try {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(details.headers)) headers[k] = String(v);
      // fetch sets the length itself.
      delete headers['Content-Length'];
      res = await fetch(details.endpoint, {
        method: 'POST',
        headers,
        body: details.body ? new Uint8Array(details.body) : null,
        signal,
        redirect: 'error',
      });
      await res.arrayBuffer().catch(() => undefined);
    } catch (err) {
      await subscriptions.failed(sub.id, (err as Error).message);
      return { ok: false, error: `push service: ${(err as Error).message}`, retry: true };
    }
    if (res.status === 404 || res.status === 410) {
      // RFC 8030 8.3: the subscription has expired or was cancelled; asking again is pointless.
      await subscriptions.remove(sub.id);
      return { ok: false, error: `push subscription gone (HTTP ${res.status}); removed`, retry: false };
    }
    if (res.status >= 200 && res.status < 300) {
      await subscriptions.succeeded(sub.id);
      // The push service has it; whether the phone has it, nobody tells us: `sent`, not delivered.
      return { ok: true, state: 'sent', providerId: res.headers.get('location')?.slice(0, 500) ?? null };
    }
    await subscriptions.failed(sub.id, `HTTP ${res.status}`);
    // 429 and 5xx pass; 400 (bad request), 401/403 (VAPID refused) and 413 will not by retrying.
    return { ok: false, error: `push service: HTTP ${res.status}`, retry: res.status === 429 || res.status >= 500 };
  }
  return { sendTo, publicKey: opts.vapid.publicKey };
}
export type PushSender = ReturnType<typeof createPushSender>;

/** The `push` contact: one stored subscription (target = its id). */
export function pushChannel(push: PushSender, subscriptions: PushSubscriptions): Channel {
  return {
    endpoint: (target) => `push:${target}`,
    async send(n, signal) {
      const payload = pushPayloadOf(n.body);
      if (!payload) return { ok: false, error: 'not a message for a person', retry: false };
      const sub = await subscriptions.get(n.target);
      if (!sub) return { ok: false, error: 'push subscription unknown or removed', retry: false };
      return push.sendTo(sub, payload, signal);
    },
  };
}

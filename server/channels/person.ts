// The `user` contact (a login, by id or username): Web Push to every browser they registered, and
// SMS to their phone when they have no subscription or no push got through. One notification row
// stands for the person; its receipt says which way it went (`providerId` push:… or smpp:…).
import type { Channel, Receipt } from '../alarms/notify.ts';
import type { Db } from '../storage/registry.ts';
import { type PushSender, type PushSubscriptions, pushPayloadOf } from './push.ts';
import { E164, personMessageOf, type SmsSender } from './sms.ts';

/** Of the sender's 5 s for one attempt, what the pushes may take, leaving the rest for the SMS. */
const PUSH_SHARE_MS = 2_500;

export interface PersonChannelDeps {
  db: Db;
  push: PushSender;
  subscriptions: PushSubscriptions;
  sms: SmsSender | null;
}

/** The login a `user` contact names, with how they are reached and called. */
export async function findContactUser(db: Db, target: string) {
  return db
    .selectFrom('users')
    .selectAll()
    .where((eb) => eb.or([eb('id', '=', target), eb('username', '=', target)]))
    .executeTakeFirst();
}

export function personChannel(deps: PersonChannelDeps): Channel {
  return {
    endpoint: (target) => `user:${target}`,
    async send(n, signal) {
      const m = personMessageOf(n.body);
      const payload = pushPayloadOf(n.body);
      if (!m || !payload) return { ok: false, error: 'not a message for a person', retry: false };
      const user = await findContactUser(deps.db, n.target);
      if (!user) return { ok: false, error: 'no such user', retry: false };
      const errors: string[] = [];
      let retry = false;
      const phone = user.phone ?? null;
      const canSms = Boolean(phone && E164.test(phone) && deps.sms);
      // A re-page (response-chain.ts) goes by the next channel: SMS, when they have a phone.
      const subs = (n.page ?? 0) > 0 && canSms ? [] : await deps.subscriptions.forUser(user.id);
      let pushed: Receipt | null = null;
      // All their browsers at once, each within a part of the attempt's budget: one browser's
      // push service that hangs must not keep the others, or the SMS after them, from going out.
      const each = AbortSignal.any([signal, AbortSignal.timeout(PUSH_SHARE_MS)]);
      const results = await Promise.all(subs.map((sub) => deps.push.sendTo(sub, payload, each)));
      for (const r of results) {
        if (r.ok) pushed ??= r;
        else {
          errors.push(r.error);
          retry ||= r.retry;
        }
      }
      if (pushed) return pushed;
      if (phone && canSms && deps.sms) {
        const r = await deps.sms.send(phone, m, signal);
        if (r.ok) return r;
        errors.push(r.error);
        retry ||= r.retry;
      } else if (phone && !deps.sms) errors.push('no SMS provider configured');
      if (subs.length === 0 && !phone) errors.push('no push subscription and no phone number');
      return { ok: false, error: errors.join('; ').slice(0, 500), retry };
    },
  };
}

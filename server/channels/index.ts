// The channels that reach people's phones, built in one place for the composition root
// (server/server.ts): Web Push (keys kept in the data directory), SMS through the configured
// provider, the `user` contact on top of both, and the composer that writes each person's message
// with its response link.
import type { Logger } from 'pino';
import type { IdSource } from '../../protocol/index.ts';
import type { Db } from '../storage/registry.ts';
import { createMessageComposer, type LinkIssuer } from './compose.ts';
import type { ChannelsConfig } from './config.ts';
import { personChannel } from './person.ts';
import { createPushSender, createPushSubscriptions, loadVapidKeys, pushChannel } from './push.ts';
import type { PushRouteOptions } from './routes.ts';
import { createSmsSender, smsChannel } from './sms.ts';

export interface ChannelsDeps {
  db: Db;
  ids: IdSource;
  now: () => string;
  log: Logger;
  config: ChannelsConfig;
  dataDir: string;
  links: LinkIssuer;
}

export function createChannels(deps: ChannelsDeps) {
  const { db, now, log, config } = deps;
  const vapid = loadVapidKeys(deps.dataDir, config.vapid);
  const subscriptions = createPushSubscriptions(db, deps.ids, now);
  const push = createPushSender({ vapid, subject: config.vapidSubject, subscriptions });
  const sms = config.sms ? createSmsSender(config.sms, { db, now, log: log.child({ channel: 'sms' }) }) : null;
  if (!sms) log.warn('no SMS provider (CARE_SMS_PROVIDER): SMS contacts wait in the outbox; users are reached by Web Push only');
  const cloud = sms?.cloudReceipts;
  const callbackSecret = config.sms && config.sms.provider !== 'smpp' ? config.sms.callbackSecret : undefined;
  const routes: PushRouteOptions = {
    subscriptions,
    vapidPublicKey: vapid.publicKey,
    allowHttpEndpoints: config.pushAllowHttp,
    smsReceipts: { accept: cloud && callbackSecret ? { provider: cloud.provider, secret: callbackSecret, receipts: cloud } : null },
  };
  return {
    /** For the notifier: `sms` only with a provider (without one, SMS rows wait in the outbox). */
    notifierChannels: {
      user: personChannel({ db, push, subscriptions, sms }),
      push: pushChannel(push, subscriptions),
      ...(sms ? { sms: smsChannel(sms) } : {}),
    },
    messages: createMessageComposer({ db, links: deps.links, language: config.language }),
    routes,
    subscriptions,
    /** For /healthz: whether the SMS provider is reachable (SMPP bound); null without one. */
    smsUp: (): boolean | null => (sms ? (sms.up?.() ?? true) : null),
    /** A work-lane task: a cloud SMS provider's delivery reports, one bounded pass when due. */
    pollSmsReceipts: async (): Promise<void> => {
      await sms?.pollReceipts?.();
    },
    start() {
      sms?.start();
    },
    async stop() {
      await sms?.stop();
    },
  };
}
export type Channels = ReturnType<typeof createChannels>;

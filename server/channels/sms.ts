// SMS behind one interface, whichever provider is configured (CARE_SMS_PROVIDER): SMPP to an SMSC,
// or a cloud SMS API. The `sms` contact is a phone number (E.164); without a provider an SMS
// contact fails visibly ("no SMS provider configured") instead of being marked sent. Receipts:
// SMPP's come on the bind; a cloud API's are pulled (cloud-receipts.ts).
import type { Logger } from 'pino';
import type { Channel, Receipt } from '../alarms/notify.ts';
import { appendAudit } from '../storage/alarms.ts';
import type { Db } from '../storage/registry.ts';
import { type CloudReceiptOptions, type CloudReceipts, createCloudReceipts } from './cloud-receipts.ts';
import { aliyunSms, type CloudSms, tencentSms } from './cloud-sms.ts';
import type { SmsConfig } from './config.ts';
import { checkPersonMessage, type PersonMessage } from './message.ts';
import { createSmppClient, type DeliveryReport } from './smpp.ts';

export const E164 = /^\+[1-9][0-9]{6,14}$/;
/** When a receipt finds no notification yet, it is looked up again after these delays. */
const EARLY_RECEIPT_RETRIES_MS = [500, 2_000, 10_000];
const MAX_EARLY_RECEIPTS = 1_000;

export interface SmsSender {
  send(to: string, m: PersonMessage, signal: AbortSignal): Promise<Receipt>;
  /** Whether it can send now (SMPP: bound to the SMSC; a cloud API: always, until a request fails). */
  up?(): boolean;
  /** A cloud API's delivery reports, pulled (one bounded pass when due); SMPP's come on the bind. */
  pollReceipts?(): Promise<void>;
  /** A cloud API's pushed reports (its HTTP callback) go here; absent for SMPP. */
  cloudReceipts?: Pick<CloudReceipts, 'report'> & { provider: 'aliyun' | 'tencent' };
  start(): void;
  stop(): Promise<void>;
}

export function personMessageOf(body: string): PersonMessage | null {
  try {
    const m: unknown = JSON.parse(body);
    return checkPersonMessage.Check(m) ? m : null;
  } catch {
    return null;
  }
}

/** A delivery report from the provider turns a `sent` notification delivered or failed (never back). */
export async function recordDeliveryReport(db: Db, now: () => string, providerId: string, delivered: boolean, error?: string) {
  const when = now();
  const rows = await db
    .selectFrom('notifications')
    .select(['id', 'alarm_id', 'channel', 'target'])
    .where('provider_id', '=', providerId)
    .limit(5)
    .execute();
  for (const row of rows) {
    const r = await db
      .updateTable('notifications')
      .set(
        delivered ? { state: 'delivered', receipt_at: when } : { state: 'failed', receipt_at: when, last_error: error ?? 'not delivered' },
      )
      .where('id', '=', row.id)
      .where('state', '=', 'sent')
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) !== 1) continue;
    await appendAudit(db, {
      at: when,
      actor: 'system',
      action: delivered ? 'notify.delivered' : 'notify.failed',
      alarmId: row.alarm_id,
      subject: `${row.channel}:${row.target}`,
      detail: { notificationId: row.id, providerId, ...(error ? { error } : {}) },
    });
  }
  return rows.length;
}

export function createSmsSender(
  config: SmsConfig,
  deps: { db: Db; now: () => string; log: Logger; receiptOptions?: CloudReceiptOptions },
): SmsSender {
  if (config.provider === 'smpp') {
    // A receipt can overtake its own submit: the SMSC answers submit_sm and reports delivery at
    // once, before the sender has written the message id. Such a receipt is tried again a few
    // times (bounded in number and time), not dropped.
    const early = new Set<NodeJS.Timeout>();
    const receipt = (r: DeliveryReport, attempt: number) => {
      recordDeliveryReport(deps.db, deps.now, `smpp:${r.messageId}`, r.delivered, r.error).then(
        (found) => {
          if (found > 0 || attempt >= EARLY_RECEIPT_RETRIES_MS.length || early.size >= MAX_EARLY_RECEIPTS) return;
          const t = setTimeout(() => {
            early.delete(t);
            receipt(r, attempt + 1);
          }, EARLY_RECEIPT_RETRIES_MS[attempt]);
          t.unref();
          early.add(t);
        },
        (err: unknown) => deps.log.error({ err }, 'recording an SMS delivery receipt failed'),
      );
    };
    const client = createSmppClient({ ...config, log: deps.log, onReceipt: (r: DeliveryReport) => receipt(r, 0) });
    return {
      send: (to, m, signal) => client.send(to, m.sms, signal),
      up: () => client.bound,
      start: () => client.start(),
      async stop() {
        for (const t of early) clearTimeout(t);
        early.clear();
        await client.stop();
      },
    };
  }
  const cloud: CloudSms = config.provider === 'aliyun' ? aliyunSms(config) : tencentSms(config);
  // The provider's receipt is read back by a poller (cloud-receipts.ts): each message it took is
  // written down for it. A failed write costs the receipt, never the message.
  const receipts = createCloudReceipts({ db: deps.db, now: deps.now, log: deps.log, cloud }, deps.receiptOptions);
  return {
    async send(to, m, signal) {
      const r = await cloud.send(to, m, signal);
      if (r.ok && r.providerId)
        await receipts.track(r.providerId, to).catch((err: unknown) => deps.log.error({ err }, 'could not keep an SMS for its receipt'));
      return r;
    },
    up: () => true,
    pollReceipts: () => receipts.poll(),
    cloudReceipts: { provider: cloud.provider, report: receipts.report },
    start() {},
    async stop() {},
  };
}

/** The `sms` contact: a phone number. */
export function smsChannel(sms: SmsSender | null): Channel {
  return {
    endpoint: (target) => `sms:${target}`,
    async send(n, signal) {
      if (!sms) return { ok: false, error: 'no SMS provider configured (CARE_SMS_PROVIDER)', retry: false };
      if (!E164.test(n.target)) return { ok: false, error: 'not an E.164 phone number', retry: false };
      const m = personMessageOf(n.body);
      if (!m) return { ok: false, error: 'not a message for a person', retry: false };
      return sms.send(n.target, m, signal);
    },
  };
}

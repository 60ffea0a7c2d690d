// SMS behind one interface, whichever provider is configured (CARE_SMS_PROVIDER): SMPP to an SMSC,
// or a cloud SMS API. The `sms` contact is a phone number (E.164); without a provider an SMS
// contact fails visibly ("no SMS provider configured") instead of being marked sent.
import type { Logger } from 'pino';
import type { Channel, Receipt } from '../alarms/notify.ts';
import { appendAudit } from '../storage/alarms.ts';
import type { Db } from '../storage/registry.ts';
import { aliyunSms, type CloudSms, tencentSms } from './cloud-sms.ts';
import type { SmsConfig } from './config.ts';
import { checkPersonMessage, type PersonMessage } from './message.ts';
import { createSmppClient, type DeliveryReport } from './smpp.ts';

export const E164 = /^\+[1-9][0-9]{6,14}$/;

export interface SmsSender {
  send(to: string, m: PersonMessage, signal: AbortSignal): Promise<Receipt>;
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

export function createSmsSender(config: SmsConfig, deps: { db: Db; now: () => string; log: Logger }): SmsSender {
  if (config.provider === 'smpp') {
    const client = createSmppClient({
      ...config,
      log: deps.log,
      onReceipt: (r: DeliveryReport) => {
        recordDeliveryReport(deps.db, deps.now, `smpp:${r.messageId}`, r.delivered, r.error).catch((err: unknown) =>
          deps.log.error({ err }, 'recording an SMS delivery receipt failed'),
        );
      },
    });
    return { send: (to, m, signal) => client.send(to, m.sms, signal), start: () => client.start(), stop: () => client.stop() };
  }
  const cloud: CloudSms = config.provider === 'aliyun' ? aliyunSms(config) : tencentSms(config);
  return { send: cloud.send, start() {}, async stop() {} };
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

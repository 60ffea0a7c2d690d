// Delivery receipts of the cloud SMS APIs, pulled through the official SDKs (server/channels/
// cloud-receipts.ts): the real SMS sender and poller on SQLite, the SDKs pointed at an HTTP server
// run by this test in the provider's place (test/helpers/cloud-sms-provider.ts), which checks each
// query's signature as the providers document it and answers with their documented shapes:
// Alibaba Cloud QuerySendDetails (SendStatus 1 waiting, 2 failed, 3 delivered) and Tencent Cloud
// PullSmsSendStatus (each report once, SUCCESS/FAIL). A notification goes sent -> delivered or
// failed (with the provider's error), stays sent while waiting and after a day without a receipt,
// and a receipt for an id nobody sent changes nothing. The clock of the poller is a variable here.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { SmsConfig } from '../../server/channels/config.ts';
import { createSmsSender, type SmsSender } from '../../server/channels/sms.ts';
import { type OpenedDatabase, openDatabase } from '../../server/storage/db.ts';
import { acs3Signature, acsParams, type FakeProvider, startFakeProvider, tc3Authorization } from '../helpers/cloud-sms-provider.ts';
import { PERSON_MESSAGE } from '../helpers/person-channel.ts';
import { type Postgres, postgresBin, startPostgres } from '../helpers/postgres.ts';
import { requireComponent } from '../helpers/require-component.ts';

let dir: string;
let opened: OpenedDatabase;
let fake: FakeProvider;
/** The poller's clock: 01:30 China time on 2 December, 17:30 UTC the day before. */
const START = Date.parse('2026-12-01T17:30:00.000Z');
let clock = START;
const now = () => new Date(clock).toISOString();
const log = pino({ level: 'silent' });
const message = JSON.parse(PERSON_MESSAGE);
const budget = () => AbortSignal.timeout(10_000);
let seq = 0;
/** Provider ids are unique across the file, as the providers' are. */
let biz = 0;
let serial = 0;

const aliyunConfig: SmsConfig = {
  provider: 'aliyun',
  template: 'SMS_123456789',
  sign: '幸福里养老',
  accessKeyId: 'LTAI5tTestKeyId',
  accessKeySecret: 'aliyun-test-secret-0123456789',
  region: 'cn-hangzhou',
  appId: undefined,
  endpoint: '',
};
const tencentConfig: SmsConfig = {
  provider: 'tencent',
  template: '1234567',
  sign: '幸福里养老',
  accessKeyId: 'AKIDtestSecretId',
  accessKeySecret: 'tencent-test-secret-0123456789',
  region: 'ap-guangzhou',
  appId: '1400000000',
  endpoint: '',
};

/** The same on SQLite and on PostgreSQL (migration 0024, the claim by next_check_at, counts back as numbers). */
const BACKENDS = ['sqlite', ...(requireComponent('postgresql', postgresBin() !== null) ? ['postgres'] : [])];
let pgServer: Postgres | null = null;

beforeAll(async () => {
  fake = await startFakeProvider();
});
afterAll(async () => {
  await fake?.close();
});

const db = () => opened.db;
const note = (id: string) => db().selectFrom('notifications').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
const audits = (id: string) =>
  db()
    .selectFrom('audit')
    .selectAll()
    .where('detail', 'like', `%${id}%`)
    .execute()
    .then((rows) => rows.map((r) => r.action));

/**
 * Sends one SMS through the real sender and files its notification the way the notifier does
 * (state `sent`, the provider's id); `fileLater` leaves the id off, as when a pull overtakes it.
 */
async function sendOne(sms: SmsSender, to = '+8613800000000', fileLater = false) {
  seq += 1;
  const id = `ntf-${seq}`;
  const r = await sms.send(to, message, budget());
  if (!r.ok) throw new Error(r.error);
  await db()
    .insertInto('notifications')
    .values({
      id,
      alarm_id: `alm-${seq}`,
      level: 1,
      channel: 'sms',
      target: to,
      payload: PERSON_MESSAGE,
      state: 'sent',
      attempts: 1,
      next_attempt_at: null,
      last_error: null,
      created_at: now(),
      contact_index: 0,
      receipt_at: null,
      page: 0,
      provider_id: fileLater ? null : (r.providerId ?? null),
    })
    .execute();
  return { id, providerId: r.providerId as string };
}

describe.each(BACKENDS)('on %s', (backend) => {
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cloud-receipts-'));
    clock = START;
    if (backend === 'postgres') pgServer = await startPostgres();
    opened = await openDatabase(dir, pgServer?.url);
  });
  afterAll(async () => {
    await opened?.close();
    pgServer?.stop();
    pgServer = null;
    fs.rmSync(dir, { recursive: true, force: true });
  });
  afterEach(async () => {
    await db().deleteFrom('sms_receipt_checks').execute();
  });

  // --- Alibaba Cloud --------------------------------------------------------------------------

  /** Alibaba's answers: SendSms with a fresh BizId, QuerySendDetails with `status`. */
  function aliyunAnswers(status: () => { SendStatus: number; ErrCode: string } | 'none' | { Code: string }) {
    fake.reply = (g) => {
      const action = g.headers['x-acs-action'];
      if (action === 'SendSms') {
        biz += 1;
        return { status: 200, json: { Code: 'OK', Message: 'OK', BizId: `90061974693649${biz}^0`, RequestId: 'r' } };
      }
      const s = status();
      if (typeof s === 'object' && 'Code' in s) return { status: 200, json: { ...(s as object), Message: 'x', RequestId: 'r' } };
      const dto =
        s === 'none'
          ? []
          : [
              {
                PhoneNum: '13800000000',
                SendStatus: (s as { SendStatus: number }).SendStatus,
                ErrCode: (s as { ErrCode: string }).ErrCode,
                TemplateCode: 'SMS_123456789',
                Content: '【幸福里养老】王奶奶跌倒',
                SendDate: '2026-12-02 01:30:00',
                ReceiveDate: '2026-12-02 01:30:05',
                OutId: '',
              },
            ];
      return {
        status: 200,
        json: { Code: 'OK', Message: 'OK', RequestId: 'r', TotalCount: dto.length, SmsSendDetailDTOs: { SmsSendDetailDTO: dto } },
      };
    };
  }
  const queries = () => fake.got.filter((g) => g.headers['x-acs-action'] === 'QuerySendDetails');

  describe('Alibaba Cloud: QuerySendDetails', () => {
    let sms: SmsSender;
    beforeAll(() => {
      sms = createSmsSender({ ...aliyunConfig, endpoint: fake.endpoint }, { db: db(), now, log, receiptOptions: { passBudgetMs: 2_000 } });
    });

    it('asks after 15 s, signed ACS3-HMAC-SHA256, by number, BizId and China send date; waiting stays sent; delivered marks it delivered', async () => {
      let status: { SendStatus: number; ErrCode: string } = { SendStatus: 1, ErrCode: '' };
      aliyunAnswers(() => status);
      const n = await sendOne(sms);
      const before = queries().length;
      clock += 5_000;
      await sms.pollReceipts?.();
      expect(queries().length).toBe(before);

      clock += 10_000;
      await sms.pollReceipts?.();
      expect(queries().length).toBe(before + 1);
      const g = queries().at(-1);
      if (!g) throw new Error('no query');
      expect(g.headers['x-acs-version']).toBe('2017-05-25');
      const { expected, signedHeaders } = acs3Signature(g, aliyunConfig.accessKeySecret);
      expect(String(g.headers.authorization)).toBe(
        `ACS3-HMAC-SHA256 Credential=${aliyunConfig.accessKeyId},SignedHeaders=${signedHeaders.join(';')},Signature=${expected}`,
      );
      const p = acsParams(g);
      expect(p.get('PhoneNumber')).toBe('13800000000');
      expect(p.get('BizId')).toBe(n.providerId.replace('aliyun:', ''));
      // Sent at 17:30 UTC on 1 December: 01:30 on 2 December in China.
      expect(p.get('SendDate')).toBe('20261202');
      expect(p.get('PageSize')).toBe('10');
      expect(p.get('CurrentPage')).toBe('1');
      expect((await note(n.id)).state).toBe('sent');

      // The next check backs off (30 s), and a pass comes at most every 10 s.
      clock += 10_000;
      await sms.pollReceipts?.();
      expect(queries().length).toBe(before + 1);
      status = { SendStatus: 3, ErrCode: 'DELIVERED' };
      clock += 20_000;
      await sms.pollReceipts?.();
      expect(queries().length).toBe(before + 2);
      const row = await note(n.id);
      expect(row).toMatchObject({ state: 'delivered', receipt_at: now(), last_error: null });
      expect(await audits(n.id)).toEqual(['notify.delivered']);
      // Done: no more checks of it.
      clock += 3600_000;
      await sms.pollReceipts?.();
      expect(queries().length).toBe(before + 2);
    });

    it('a failed report marks the notification failed with the provider error code', async () => {
      aliyunAnswers(() => ({ SendStatus: 2, ErrCode: 'IC:0001' }));
      const n = await sendOne(sms);
      clock += 15_000;
      await sms.pollReceipts?.();
      expect(await note(n.id)).toMatchObject({ state: 'failed', receipt_at: now(), last_error: 'Alibaba Cloud SMS: IC:0001' });
      expect(await audits(n.id)).toEqual(['notify.failed']);
    });

    it('no record yet (the provider has not filed it) is waiting, not failed', async () => {
      aliyunAnswers(() => 'none');
      const n = await sendOne(sms);
      clock += 15_000;
      await sms.pollReceipts?.();
      expect((await note(n.id)).state).toBe('sent');
    });

    it('a provider fault pauses the polling (backoff), then it goes on', async () => {
      let answer: { Code: string } | { SendStatus: number; ErrCode: string } = { Code: 'isv.BUSINESS_LIMIT_CONTROL' };
      aliyunAnswers(() => answer);
      const n = await sendOne(sms);
      clock += 15_000;
      const before = queries().length;
      await sms.pollReceipts?.();
      expect(queries().length).toBe(before + 1);
      expect((await note(n.id)).state).toBe('sent');
      answer = { SendStatus: 3, ErrCode: 'DELIVERED' };
      // Paused for 30 s: passes within it ask nothing.
      clock += 20_000;
      await sms.pollReceipts?.();
      expect(queries().length).toBe(before + 1);
      clock += 40_000;
      await sms.pollReceipts?.();
      expect(queries().length).toBe(before + 2);
      expect((await note(n.id)).state).toBe('delivered');
    });

    it('a provider that never answers costs one pass its budget, not more', async () => {
      const slow = createSmsSender(
        { ...aliyunConfig, endpoint: fake.endpoint },
        { db: db(), now, log, receiptOptions: { passBudgetMs: 400, faultBackoff: { baseMs: 30_000, capMs: 60_000 } } },
      );
      aliyunAnswers(() => ({ SendStatus: 1, ErrCode: '' }));
      const ns = [await sendOne(slow), await sendOne(slow), await sendOne(slow)];
      fake.reply = () => null;
      clock += 15_000;
      const before = fake.got.length;
      const t0 = performance.now();
      await slow.pollReceipts?.();
      const took = performance.now() - t0;
      expect(took).toBeLessThan(2_000);
      // One query was under way when the budget ran out; the others were not started.
      expect(fake.got.length - before).toBe(1);
      for (const n of ns) expect((await note(n.id)).state).toBe('sent');
    });

    it('after a day without a receipt it stops asking; the notification stays sent', async () => {
      aliyunAnswers(() => 'none');
      const n = await sendOne(sms);
      clock += 24 * 3600_000 + 1_000;
      const before = queries().length;
      await sms.pollReceipts?.();
      expect(queries().length).toBe(before);
      expect(await db().selectFrom('sms_receipt_checks').selectAll().execute()).toEqual([]);
      expect((await note(n.id)).state).toBe('sent');
    });
  });

  // --- Tencent Cloud --------------------------------------------------------------------------

  type TencentReport = { serial: string; status: 'SUCCESS' | 'FAIL'; description?: string };
  /** Tencent's answers: SendSms with a fresh SerialNo, PullSmsSendStatus with the reports in `queue` (each once). */
  function tencentAnswers(queue: TencentReport[]) {
    fake.reply = (g) => {
      const action = g.headers['x-tc-action'];
      if (action === 'SendSms') {
        serial += 1;
        const SerialNo = `2028:f825e6b16e23f73f${1000 + serial}`;
        return {
          status: 200,
          json: {
            Response: {
              SendStatusSet: [{ SerialNo, PhoneNumber: '+8613800000000', Fee: 1, Code: 'Ok', Message: 'send success', IsoCode: 'CN' }],
              RequestId: 'r',
            },
          },
        };
      }
      const set = queue.splice(0, 100).map((r) => ({
        UserReceiveTime: Math.floor(clock / 1000),
        CountryCode: '86',
        SubscriberNumber: '13800000000',
        PhoneNumber: '+8613800000000',
        SerialNo: r.serial,
        ReportStatus: r.status,
        Description: r.description ?? (r.status === 'SUCCESS' ? '用户短信送达成功' : '用户短信发送失败'),
        SessionContext: '',
      }));
      return { status: 200, json: { Response: { PullSmsSendStatusSet: set, RequestId: 'r' } } };
    };
  }
  const pulls = () => fake.got.filter((g) => g.headers['x-tc-action'] === 'PullSmsSendStatus');

  describe('Tencent Cloud: PullSmsSendStatus', () => {
    let sms: SmsSender;
    beforeAll(() => {
      sms = createSmsSender({ ...tencentConfig, endpoint: fake.endpoint }, { db: db(), now, log, receiptOptions: { passBudgetMs: 2_000 } });
    });

    it('pulls the app reports, signed TC3-HMAC-SHA256: SUCCESS delivers, FAIL fails with the description, an unknown id changes nothing', async () => {
      const queue: TencentReport[] = [];
      tencentAnswers(queue);
      const a = await sendOne(sms);
      const b = await sendOne(sms);
      const c = await sendOne(sms);
      // Nothing reported yet: all stay sent.
      clock += 10_000;
      await sms.pollReceipts?.();
      for (const n of [a, b, c]) expect((await note(n.id)).state).toBe('sent');
      const g = pulls().at(-1);
      if (!g) throw new Error('no pull');
      expect(g.headers['x-tc-version']).toBe('2021-01-11');
      expect(String(g.headers.authorization)).toBe(tc3Authorization(g, tencentConfig.accessKeyId, tencentConfig.accessKeySecret));
      expect(JSON.parse(g.body)).toEqual({ Limit: 100, SmsSdkAppId: '1400000000' });

      queue.push(
        { serial: a.providerId.replace('tencent:', ''), status: 'SUCCESS' },
        { serial: b.providerId.replace('tencent:', ''), status: 'FAIL', description: '空号' },
        { serial: '2028:nobody-sent-this', status: 'SUCCESS' },
      );
      const before = await db().selectFrom('notifications').select(['id', 'state', 'receipt_at']).orderBy('id').execute();
      clock += 10_000;
      await sms.pollReceipts?.();
      expect(await note(a.id)).toMatchObject({ state: 'delivered', receipt_at: now() });
      expect(await note(b.id)).toMatchObject({ state: 'failed', receipt_at: now(), last_error: 'Tencent Cloud SMS: FAIL 空号' });
      expect(await note(c.id)).toMatchObject({ state: 'sent', receipt_at: null });
      // The unknown id: no other notification changed, nothing kept for it.
      const after = await db().selectFrom('notifications').select(['id', 'state', 'receipt_at']).orderBy('id').execute();
      expect(after.filter((r) => r.id !== a.id && r.id !== b.id)).toEqual(before.filter((r) => r.id !== a.id && r.id !== b.id));
      expect(await db().selectFrom('sms_receipt_checks').select('provider_id').where('provider_id', 'like', '%nobody%').execute()).toEqual(
        [],
      );
      expect(await audits(a.id)).toEqual(['notify.delivered']);
      expect(await audits(b.id)).toEqual(['notify.failed']);
    });

    it('a report pulled before the notification carries the id is kept and applied on a later pass (Tencent gives it once)', async () => {
      const queue: TencentReport[] = [];
      tencentAnswers(queue);
      const n = await sendOne(sms, '+8613800000000', true);
      queue.push({ serial: n.providerId.replace('tencent:', ''), status: 'SUCCESS' });
      clock += 10_000;
      await sms.pollReceipts?.();
      expect(queue).toEqual([]);
      expect((await note(n.id)).state).toBe('sent');
      // The notifier's write lands.
      await db().updateTable('notifications').set({ provider_id: n.providerId }).where('id', '=', n.id).execute();
      clock += 10_000;
      await sms.pollReceipts?.();
      expect((await note(n.id)).state).toBe('delivered');
      expect(await db().selectFrom('sms_receipt_checks').selectAll().execute()).toEqual([]);
    });

    it('does not pull while no message waits for a report (the pull takes the app reports for good)', async () => {
      tencentAnswers([]);
      const before = pulls().length;
      clock += 60_000;
      await sms.pollReceipts?.();
      expect(pulls().length).toBe(before);
    });
  });
});

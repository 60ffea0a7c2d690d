// The cloud SMS providers' pushed delivery reports (server/channels/receipt-routes.ts) through
// Fastify's inject on the server's base app, with the real receipt store on SQLite: Alibaba Cloud's
// SmsReport and Tencent Cloud's status callback in their documented shapes turn a `sent`
// notification of that provider delivered or failed; a wrong secret, another provider, or no
// secret configured answer 404 and change nothing; an unknown id, or a notification not `sent`,
// changes nothing; the body is limited and the route rate-limited. The provider's API is never
// called by this route, so the SDK side is a stand-in that fails if it is.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCloudReceipts } from '../../server/channels/cloud-receipts.ts';
import type { CloudSms } from '../../server/channels/cloud-sms.ts';
import { type SmsReceiptRouteOptions, smsReceiptRoutes } from '../../server/channels/receipt-routes.ts';
import { baseApp } from '../../server/http/app.ts';
import { type OpenedDatabase, openDatabase } from '../../server/storage/db.ts';
import { quietLogger } from '../helpers/harness.ts';

const NOW = '2026-12-02T04:00:00.000Z';
const SECRET = 'cb_0123456789abcdefghijklmnopqrstuvwxyz';
let dir: string;
let opened: OpenedDatabase;
let seq = 0;

const noApi = (provider: 'aliyun' | 'tencent'): CloudSms => ({
  provider,
  send: () => {
    throw new Error('the callback route must not call the provider');
  },
  readReports: () => {
    throw new Error('the callback route must not call the provider');
  },
});

async function appFor(provider: 'aliyun' | 'tencent', opts: Partial<SmsReceiptRouteOptions> = {}): Promise<FastifyInstance> {
  const receipts = createCloudReceipts({ db: opened.db, now: () => NOW, log: quietLogger(), cloud: noApi(provider) });
  const app = baseApp(quietLogger());
  await app.register(smsReceiptRoutes, { accept: { provider, secret: SECRET, receipts }, ...opts });
  await app.ready();
  return app;
}

async function notification(providerId: string, state: 'sent' | 'delivered' | 'failed' | 'pending' = 'sent') {
  seq += 1;
  const id = `ntf-${seq}`;
  await opened.db
    .insertInto('notifications')
    .values({
      id,
      alarm_id: `alm-${seq}`,
      level: 1,
      channel: 'sms',
      target: '+8613800000000',
      payload: '{}',
      state,
      attempts: 1,
      next_attempt_at: null,
      last_error: null,
      created_at: NOW,
      contact_index: 0,
      receipt_at: null,
      page: 0,
      provider_id: providerId,
    })
    .execute();
  return id;
}
const note = (id: string) => opened.db.selectFrom('notifications').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
const allNotes = () => opened.db.selectFrom('notifications').select(['id', 'state', 'receipt_at', 'last_error']).orderBy('id').execute();

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sms-receipt-routes-'));
  opened = await openDatabase(dir);
});
afterAll(async () => {
  await opened?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Alibaba Cloud SmsReport, as its document shows one report. */
const aliyunReport = (bizId: string, success: boolean, errCode = success ? 'DELIVERED' : 'MK:0001') => ({
  phone_number: '13800000000',
  send_time: '2026-12-02 12:00:00',
  report_time: '2026-12-02 12:00:05',
  success,
  err_code: errCode,
  err_msg: success ? '用户接收成功' : '失败',
  sms_size: '1',
  biz_id: bizId,
  out_id: '',
});
/** Tencent Cloud's status callback, as its document shows one report. */
const tencentReport = (sid: string, status: 'SUCCESS' | 'FAIL', description = status === 'SUCCESS' ? '用户短信送达成功' : '用户关机') => ({
  user_receive_time: '2026-12-02 12:00:05',
  nationcode: '86',
  mobile: '13800000000',
  report_status: status,
  errmsg: status === 'SUCCESS' ? 'DELIVRD' : 'MN:0001',
  description,
  sid,
});

describe('Alibaba Cloud SmsReport push', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = await appFor('aliyun');
  });
  afterAll(() => app.close());

  it('delivered and failed reports turn sent notifications; the answer is the documented {code: 0}', async () => {
    const a = await notification('aliyun:111^0');
    const b = await notification('aliyun:222^0');
    await opened.db
      .insertInto('sms_receipt_checks')
      .values({
        provider_id: 'aliyun:111^0',
        phone: '+8613800000000',
        sent_at: NOW,
        next_check_at: NOW,
        checks: 0,
        outcome: null,
        error: null,
      })
      .execute();
    const r = await app.inject({
      method: 'POST',
      url: `/api/v1/sms/receipts/aliyun/${SECRET}`,
      payload: [aliyunReport('111^0', true), aliyunReport('222^0', false)],
    });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toEqual({ code: 0, msg: '成功' });
    expect(await note(a)).toMatchObject({ state: 'delivered', receipt_at: NOW });
    expect(await note(b)).toMatchObject({ state: 'failed', receipt_at: NOW, last_error: 'Alibaba Cloud SMS: MK:0001' });
    // Done with it: the poller no longer asks.
    expect(await opened.db.selectFrom('sms_receipt_checks').selectAll().execute()).toEqual([]);
  });

  it('an unknown id, another provider id or a notification no longer sent changes nothing', async () => {
    await notification('aliyun:333^0', 'failed');
    await notification('tencent:333^0');
    await notification('smpp:333^0');
    const before = await allNotes();
    const r = await app.inject({
      method: 'POST',
      url: `/api/v1/sms/receipts/aliyun/${SECRET}`,
      payload: [aliyunReport('333^0', true), aliyunReport('nobody-sent-this', true)],
    });
    expect(r.statusCode).toBe(200);
    expect(await allNotes()).toEqual(before);
  });

  it('a wrong secret or the other provider path answers 404 and changes nothing', async () => {
    const a = await notification('aliyun:444^0');
    for (const url of [`/api/v1/sms/receipts/aliyun/${SECRET.slice(0, -1)}x`, `/api/v1/sms/receipts/tencent/${SECRET}`]) {
      const r = await app.inject({ method: 'POST', url, payload: [aliyunReport('444^0', true)] });
      expect(r.statusCode).toBe(404);
    }
    expect((await note(a)).state).toBe('sent');
  });

  it('refuses a body over 64 KiB (413) and more than 500 reports (400)', async () => {
    const big = await app.inject({
      method: 'POST',
      url: `/api/v1/sms/receipts/aliyun/${SECRET}`,
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify([{ ...aliyunReport('1', true), pad: 'x'.repeat(70 * 1024) }]),
    });
    expect(big.statusCode).toBe(413);
    const many = await app.inject({
      method: 'POST',
      url: `/api/v1/sms/receipts/aliyun/${SECRET}`,
      payload: Array.from({ length: 501 }, () => ({ biz_id: '1', success: true })),
    });
    expect(many.statusCode).toBe(400);
  });
});

describe('Tencent Cloud status callback', () => {
  it('SUCCESS delivers, FAIL fails with the description; the answer is the documented {result: 0}', async () => {
    const app = await appFor('tencent');
    const a = await notification('tencent:2028:aaa');
    const b = await notification('tencent:2028:bbb');
    const r = await app.inject({
      method: 'POST',
      url: `/api/v1/sms/receipts/tencent/${SECRET}`,
      payload: [tencentReport('2028:aaa', 'SUCCESS'), tencentReport('2028:bbb', 'FAIL')],
    });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toEqual({ result: 0, errmsg: 'OK' });
    expect(await note(a)).toMatchObject({ state: 'delivered', receipt_at: NOW });
    expect(await note(b)).toMatchObject({ state: 'failed', last_error: 'Tencent Cloud SMS: FAIL 用户关机' });
    await app.close();
  });

  it('rate-limited: beyond the requests a minute, 429', async () => {
    let t = 0;
    const app = await appFor('tencent', { perMinute: 3, now: () => t });
    const post = () => app.inject({ method: 'POST', url: `/api/v1/sms/receipts/tencent/${SECRET}`, payload: [] });
    for (let i = 0; i < 3; i += 1) expect((await post()).statusCode).toBe(200);
    expect((await post()).statusCode).toBe(429);
    t += 60_000;
    expect((await post()).statusCode).toBe(200);
    await app.close();
  });

  it('without a callback secret configured, the address does not exist (404)', async () => {
    const app = baseApp(quietLogger());
    await app.register(smsReceiptRoutes, { accept: null });
    const a = await notification('tencent:2028:ccc');
    const r = await app.inject({
      method: 'POST',
      url: `/api/v1/sms/receipts/tencent/${SECRET}`,
      payload: [tencentReport('2028:ccc', 'SUCCESS')],
    });
    expect(r.statusCode).toBe(404);
    expect((await note(a)).state).toBe('sent');
    await app.close();
  });
});

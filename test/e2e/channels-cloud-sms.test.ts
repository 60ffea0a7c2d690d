// SMS through Alibaba Cloud's SMS API (official SDK) with its delivery receipt pulled back, end to
// end: a real server, broker and MQTT gateway; the provider is an HTTP server run by this test
// (test/helpers/cloud-sms-provider.ts) that checks the ACS3-HMAC-SHA256 signature and answers
// SendSms and QuerySendDetails in their documented shapes. An escalated alarm's SMS goes out, the
// notification shows `sent`, and the work lane's receipt poll turns it `delivered` (SendStatus 3)
// or `failed` with the provider's code (SendStatus 2), in the notification list and the alarm's
// audit trail the dashboard shows, as an SMPP receipt does. Fake clock for escalation and polling.
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alarm } from '../../protocol/index.ts';
import { acs3Signature, acsParams, type FakeProvider, type Got, startFakeProvider } from '../helpers/cloud-sms-provider.ts';
import { alarmRaiser, smsNotes as notes, SMS_AT_SECOND_LEVEL, siteWithEscalation } from '../helpers/escalation.ts';
import { FakeClock } from '../helpers/fake-clock.ts';
import { type DemoSite, startTestServer, type TestServer, waitFor } from '../helpers/harness.ts';

const SECRET = 'aliyun-e2e-secret-0123456789';
let server: TestServer;
let site: DemoSite;
let gw: MqttClient;
let fake: FakeProvider;
let biz = 0;
/** What QuerySendDetails says of each BizId. */
const status = new Map<string, { SendStatus: number; ErrCode: string }>();
const badSignatures: Got[] = [];
const clock = new FakeClock(Date.parse('2026-11-23T02:00:00.000Z'));

const smsNotes = () => notes(server);
const raiseCall = alarmRaiser(clock, () => ({ server, site, gw }));

/** Escalates the alarm to the SMS level and waits for its notification to be `sent`; returns it with its BizId. */
async function smsSent(alarm: Alarm) {
  clock.advance(60_000);
  await server.tick();
  const n = await waitFor(async () => (await smsNotes()).find((x) => x.alarmId === alarm.id && x.state === 'sent'), 'sent');
  const send = fake.got.filter((g) => g.headers['x-acs-action'] === 'SendSms').at(-1) as Got;
  return { n, bizId: `90061974693649${biz}^0`, send };
}

beforeAll(async () => {
  fake = await startFakeProvider();
  fake.reply = (g) => {
    if (String(g.headers.authorization).split('Signature=')[1] !== acs3Signature(g, SECRET).expected) badSignatures.push(g);
    if (g.headers['x-acs-action'] === 'SendSms') {
      biz += 1;
      return { status: 200, json: { Code: 'OK', Message: 'OK', BizId: `90061974693649${biz}^0`, RequestId: 'r' } };
    }
    const s = status.get(acsParams(g).get('BizId') ?? '') ?? { SendStatus: 1, ErrCode: '' };
    const dto = { PhoneNum: '13800000000', ...s, TemplateCode: 'SMS_123456789', Content: 'x', SendDate: '', ReceiveDate: '', OutId: '' };
    return {
      status: 200,
      json: { Code: 'OK', Message: 'OK', RequestId: 'r', TotalCount: 1, SmsSendDetailDTOs: { SmsSendDetailDTO: [dto] } },
    };
  };
  server = await startTestServer(undefined, {
    clock,
    env: {
      CARE_SMS_PROVIDER: 'aliyun',
      CARE_SMS_TEMPLATE: 'SMS_123456789',
      CARE_SMS_SIGN: '幸福里养老',
      CARE_SMS_ACCESS_KEY_ID: 'LTAI5tE2eKeyId',
      CARE_SMS_ACCESS_KEY_SECRET: SECRET,
      CARE_SMS_ENDPOINT: fake.endpoint,
      CARE_PUBLIC_URL: 'https://care.example.org',
    },
  });
  ({ site, gw } = await siteWithEscalation(server, SMS_AT_SECOND_LEVEL));
});
afterAll(async () => {
  await gw?.endAsync();
  await server?.stop();
  await fake?.close();
});

describe('SMS through Alibaba Cloud, with its receipt pulled', () => {
  it('an escalated alarm SMS is sent, stays sent while the provider waits, and the receipt query marks it delivered', async () => {
    const alarm = await raiseCall('btn-301');
    const { n, bizId, send } = await smsSent(alarm);
    expect(acsParams(send).get('PhoneNumbers')).toBe('13800000000');
    // Waiting (SendStatus 1): still sent after the first check.
    clock.advance(20_000);
    await server.tick();
    await waitFor(() => fake.got.some((g) => g.headers['x-acs-action'] === 'QuerySendDetails'), 'a receipt query');
    expect((await smsNotes()).find((x) => x.id === n.id)?.state).toBe('sent');
    status.set(bizId, { SendStatus: 3, ErrCode: 'DELIVERED' });
    clock.advance(40_000);
    await server.tick();
    const done = await waitFor(async () => (await smsNotes()).find((x) => x.id === n.id && x.state === 'delivered'), 'delivered');
    expect(done.receiptAt).toBe(clock.iso());
    const audit = await server.api<{ entries: Array<{ action: string }> }>('GET', `/api/v1/audit?alarmId=${alarm.id}`);
    expect(JSON.stringify(audit.body)).toContain('notify.delivered');
    expect(badSignatures).toEqual([]);
    await server.api('POST', `/api/v1/alarms/${alarm.id}/resolve`, { note: 'done' });
  });

  it('a report saying the phone never got it marks the notification failed with the provider code', async () => {
    const alarm = await raiseCall('btn-302');
    const { n, bizId } = await smsSent(alarm);
    status.set(bizId, { SendStatus: 2, ErrCode: 'MK:0001' });
    clock.advance(20_000);
    await server.tick();
    const failed = await waitFor(async () => (await smsNotes()).find((x) => x.id === n.id && x.state === 'failed'), 'failed');
    expect(failed.lastError).toBe('Alibaba Cloud SMS: MK:0001');
    expect(badSignatures).toEqual([]);
    await server.api('POST', `/api/v1/alarms/${alarm.id}/resolve`, { note: 'done' });
  });
});

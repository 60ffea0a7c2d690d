// The cloud SMS adapters (Alibaba Cloud, Tencent Cloud) through their official SDKs, pointed at an
// HTTP server run by this test in the provider's place. The test recomputes each request's
// signature from the providers' documentation (not from the SDK): Alibaba Cloud's V3 scheme
// ACS3-HMAC-SHA256 ("V3 版本请求体&签名机制") and Tencent Cloud's TC3-HMAC-SHA256 ("签名方法 v3"),
// checks the template, signature name, number and variables, and maps the providers' documented
// answers to receipts (accepted with the provider's id; refusals retried or not).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alarm } from '../../protocol/index.ts';
import { aliyunSms, TENCENT_PARAM_ORDER, tencentSms } from '../../server/channels/cloud-sms.ts';
import { composeMessage } from '../../server/channels/message.ts';
import {
  acs3Signature,
  acsParams,
  type FakeProvider,
  type Got,
  sha256,
  startFakeProvider,
  tc3Authorization,
} from '../helpers/cloud-sms-provider.ts';

let fake: FakeProvider;
let endpoint = '';
const got = (): Got[] => fake.got;
let reply: (g: Got) => { status: number; json: unknown } = () => ({ status: 200, json: {} });

const alarm: Alarm = {
  id: 'alm-1',
  type: 'fall',
  priority: 'high',
  state: 'active',
  siteId: 'site-1',
  gatewayId: 'gw-1',
  deviceId: 'radar-1',
  residentId: 'res-1',
  room: '203',
  raisedAt: '2026-11-23T02:00:00.000Z',
  ackAt: null,
  ackBy: null,
  resolvedAt: null,
  resolvedBy: null,
  escalationLevel: 1,
  count: 1,
} as Alarm;
const message = composeMessage(
  alarm,
  { residentName: '王秀英', siteName: '幸福里', address: '重庆市渝中区解放碑街道 8 号', room: '203' },
  { url: 'https://care.example.org/r/tok_ABCDEFGHIJKLMNOPQRSTUV', token: 'tok_ABCDEFGHIJKLMNOPQRSTUV' },
);
const budget = () => AbortSignal.timeout(10_000);

beforeAll(async () => {
  fake = await startFakeProvider();
  fake.reply = (g) => reply(g);
  endpoint = fake.endpoint;
});
afterAll(() => fake?.close());

describe('Alibaba Cloud SMS (dysmsapi SendSms)', () => {
  const opts = {
    template: 'SMS_123456789',
    sign: '幸福里养老',
    accessKeyId: 'LTAI5tTestKeyId',
    accessKeySecret: 'aliyun-test-secret-0123456789',
    region: 'cn-hangzhou',
  };

  it('sends the template with its variables, signed ACS3-HMAC-SHA256 as documented, and takes the BizId', async () => {
    reply = () => ({ status: 200, json: { Code: 'OK', Message: 'OK', BizId: '900619746936498440^0', RequestId: 'F655A8D5' } });
    const sms = aliyunSms({ ...opts, endpoint });
    const r = await sms.send('+8613800000000', message, budget());
    expect(r).toEqual({ ok: true, state: 'sent', providerId: 'aliyun:900619746936498440^0' });
    const g = got().at(-1) as Got;
    expect(g.headers['x-acs-action']).toBe('SendSms');
    expect(g.headers['x-acs-version']).toBe('2017-05-25');
    expect(g.headers['x-acs-content-sha256']).toBe(sha256(g.body));
    const { expected, signedHeaders } = acs3Signature(g, opts.accessKeySecret);
    expect(signedHeaders).toEqual(
      expect.arrayContaining(['host', 'x-acs-action', 'x-acs-version', 'x-acs-date', 'x-acs-signature-nonce', 'x-acs-content-sha256']),
    );
    expect(String(g.headers.authorization)).toBe(
      `ACS3-HMAC-SHA256 Credential=${opts.accessKeyId},SignedHeaders=${signedHeaders.join(';')},Signature=${expected}`,
    );
    const params = acsParams(g);
    expect(params.get('PhoneNumbers')).toBe('13800000000');
    expect(params.get('SignName')).toBe(opts.sign);
    expect(params.get('TemplateCode')).toBe(opts.template);
    expect(JSON.parse(params.get('TemplateParam') ?? '{}')).toEqual({ ...message.vars, token: message.token });
  });

  it('a signature computed with another secret does not match (the check above can fail)', () => {
    const g = got().at(-1) as Got;
    expect(String(g.headers.authorization)).not.toContain(acs3Signature(g, 'another-secret').expected);
  });

  it('maps refusals: a bad number is not retried, throttling is', async () => {
    const sms = aliyunSms({ ...opts, endpoint });
    reply = () => ({ status: 200, json: { Code: 'isv.MOBILE_NUMBER_ILLEGAL', Message: '非法手机号', RequestId: 'x' } });
    expect(await sms.send('+8613800000000', message, budget())).toMatchObject({
      ok: false,
      retry: false,
      error: expect.stringContaining('MOBILE_NUMBER_ILLEGAL'),
    });
    reply = () => ({ status: 200, json: { Code: 'isv.BUSINESS_LIMIT_CONTROL', Message: '触发流控', RequestId: 'x' } });
    expect(await sms.send('+8613800000000', message, budget())).toMatchObject({ ok: false, retry: true });
  });
});

describe('Tencent Cloud SMS (sms 2021-01-11 SendSms)', () => {
  const opts = {
    template: '1234567',
    sign: '幸福里养老',
    accessKeyId: 'AKIDtestSecretId',
    accessKeySecret: 'tencent-test-secret-0123456789',
    region: 'ap-guangzhou',
    appId: '1400000000',
  };

  it('sends the template with positional variables, signed TC3-HMAC-SHA256 as documented, and takes the SerialNo', async () => {
    reply = () => ({
      status: 200,
      json: {
        Response: {
          SendStatusSet: [
            {
              SerialNo: '2028:f825e6b16e23f73f4123',
              PhoneNumber: '+8613800000000',
              Fee: 1,
              Code: 'Ok',
              Message: 'send success',
              IsoCode: 'CN',
            },
          ],
          RequestId: 'a0aabda6-cf91-4f3e-a81f-9198114a2279',
        },
      },
    });
    const sms = tencentSms({ ...opts, endpoint });
    const r = await sms.send('+8613800000000', message, budget());
    expect(r).toEqual({ ok: true, state: 'sent', providerId: 'tencent:2028:f825e6b16e23f73f4123' });
    const g = got().at(-1) as Got;
    expect(g.headers['x-tc-action']).toBe('SendSms');
    expect(g.headers['x-tc-version']).toBe('2021-01-11');
    expect(g.headers['x-tc-region']).toBe('ap-guangzhou');
    const auth = String(g.headers.authorization);
    expect(auth).toMatch(/SignedHeaders=[^,]*content-type[^,]*host/);
    expect(auth).toBe(tc3Authorization(g, opts.accessKeyId, opts.accessKeySecret));
    expect(auth).not.toBe(tc3Authorization(g, opts.accessKeyId, 'another-secret'));
    const body = JSON.parse(g.body) as Record<string, unknown>;
    const vars = { ...message.vars, token: message.token };
    expect(body).toEqual({
      PhoneNumberSet: ['+8613800000000'],
      SmsSdkAppId: opts.appId,
      SignName: opts.sign,
      TemplateId: opts.template,
      TemplateParamSet: TENCENT_PARAM_ORDER.map((k) => vars[k]),
    });
  });

  it('maps refusals: a blacklisted number and a bad signature are not retried, a provider fault is', async () => {
    const sms = tencentSms({ ...opts, endpoint });
    reply = () => ({
      status: 200,
      json: {
        Response: {
          SendStatusSet: [
            { SerialNo: '', PhoneNumber: '+8613800000000', Code: 'FailedOperation.PhoneNumberInBlacklist', Message: 'blacklist' },
          ],
          RequestId: 'x',
        },
      },
    });
    expect(await sms.send('+8613800000000', message, budget())).toMatchObject({ ok: false, retry: false });
    reply = () => ({
      status: 200,
      json: { Response: { Error: { Code: 'AuthFailure.SignatureFailure', Message: 'bad signature' }, RequestId: 'x' } },
    });
    expect(await sms.send('+8613800000000', message, budget())).toMatchObject({
      ok: false,
      retry: false,
      error: expect.stringContaining('AuthFailure'),
    });
    reply = () => ({ status: 200, json: { Response: { Error: { Code: 'InternalError.Timeout', Message: 'timeout' }, RequestId: 'x' } } });
    expect(await sms.send('+8613800000000', message, budget())).toMatchObject({ ok: false, retry: true });
  });
});

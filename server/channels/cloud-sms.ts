// The mainland cloud SMS APIs, through their official SDKs: Alibaba Cloud (dysmsapi 2017-05-25,
// SendSms, signed ACS3-HMAC-SHA256 by @alicloud/openapi-client) and Tencent Cloud (sms 2021-01-11,
// SendSms, signed TC3-HMAC-SHA256 by tencentcloud-sdk-nodejs-sms). Both send an approved template
// with a signature, not free text: the template's variables are the alarm's parts and the link's
// token. An answer maps to a receipt: accepted (`sent`, with the provider's id), a refusal no retry
// can mend (bad number, template, signature, credentials), or one worth retrying (throttled,
// network, provider fault).
import * as dysms from '@alicloud/dysmsapi20170525';
import * as OpenApi from '@alicloud/openapi-client';
import * as TeaUtil from '@alicloud/tea-util';
import * as tencent from 'tencentcloud-sdk-nodejs-sms';
import type { Receipt } from '../alarms/notify.ts';
import type { PersonMessage } from './message.ts';

export interface CloudSmsOptions {
  template: string;
  sign: string;
  accessKeyId: string;
  accessKeySecret: string;
  region: string;
  appId?: string;
  /** http(s)://host[:port]: another address for the API (tests, a private endpoint). */
  endpoint?: string;
  /** Per-request time limit [4000]; the sender's budget also bounds it. */
  timeoutMs?: number;
}

export interface CloudSms {
  send(to: string, m: PersonMessage, signal: AbortSignal): Promise<Receipt>;
}

/**
 * Template variables: what, who, where, when, and the link's token, so a template reads e.g.
 * "${who}在${where}${what}，${when}。请点击 https://care.example.org/r/${token} 处理" (the
 * provider's template review wants a fixed domain; the variable is the token only).
 */
export const templateVars = (m: PersonMessage) => ({ ...m.vars, token: m.token });
/** Tencent's variables are positional: the same, in this order. */
export const TENCENT_PARAM_ORDER = ['what', 'who', 'where', 'when', 'token'] as const;

/** Races a provider call against the sender's budget (the SDKs keep their own timers, bounded too). */
function bounded(signal: AbortSignal, call: () => Promise<Receipt>): Promise<Receipt> {
  if (signal.aborted) return Promise.resolve({ ok: false, error: 'no time left for the attempt', retry: true });
  return new Promise((resolve) => {
    const onAbort = () => resolve({ ok: false, error: 'SMS provider did not answer in time', retry: true });
    signal.addEventListener('abort', onAbort, { once: true });
    call().then(
      (r) => {
        signal.removeEventListener('abort', onAbort);
        resolve(r);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        resolve({ ok: false, error: `SMS provider: ${(err as Error).message?.slice(0, 200)}`, retry: true });
      },
    );
  });
}

/** Alibaba Cloud codes (SendSms error codes page) that retrying the same request will not mend. */
const ALIYUN_PERMANENT =
  /^(isv\.(MOBILE_NUMBER_ILLEGAL|SMS_TEMPLATE_ILLEGAL|SMS_SIGNATURE_ILLEGAL|TEMPLATE_MISSING_PARAMETERS|INVALID_PARAMETERS|PARAM_LENGTH_LIMIT|BLACK_KEY_CONTROL_LIMIT|AMOUNT_NOT_ENOUGH|OUT_OF_SERVICE|ACCOUNT_NOT_EXISTS|ACCOUNT_ABNORMAL|SMS_CONTENT_ILLEGAL|SMS_SIGN_ILLEGAL|DENY_IP_RANGE|MOBILE_COUNT_OVER_LIMIT)|SignatureDoesNotMatch|InvalidAccessKeyId.*|Forbidden.*)$/;

export function aliyunSms(opts: CloudSmsOptions): CloudSms {
  const ep = opts.endpoint ? new URL(opts.endpoint) : null;
  const config = new OpenApi.Config({
    accessKeyId: opts.accessKeyId,
    accessKeySecret: opts.accessKeySecret,
    regionId: opts.region,
    endpoint: ep ? ep.host : 'dysmsapi.aliyuncs.com',
    protocol: ep ? ep.protocol.replace(':', '') : 'https',
  });
  // The package's CommonJS default export, as ESM sees it (module.exports.default is the client).
  type AliyunClient = { sendSmsWithOptions(req: dysms.SendSmsRequest, runtime: unknown): Promise<dysms.SendSmsResponse> };
  const exported = (dysms as unknown as { default: { default?: unknown } }).default;
  const Client = (exported.default ?? exported) as new (c: unknown) => AliyunClient;
  const client = new Client(config);
  const timeout = opts.timeoutMs ?? 4000;
  return {
    send: (to, m, signal) =>
      bounded(signal, async () => {
        const req = new dysms.SendSmsRequest({
          // Mainland numbers without +86; others with their country code.
          phoneNumbers: to.startsWith('+86') ? to.slice(3) : to.replace(/^\+/, '00'),
          signName: opts.sign,
          templateCode: opts.template,
          templateParam: JSON.stringify(templateVars(m)),
        });
        const runtime = new TeaUtil.RuntimeOptions({ connectTimeout: timeout, readTimeout: timeout, autoretry: false, maxAttempts: 1 });
        try {
          const res = await client.sendSmsWithOptions(req, runtime);
          const body = res.body;
          if (body?.code === 'OK') return { ok: true, state: 'sent', providerId: body.bizId ? `aliyun:${body.bizId}` : null };
          const code = body?.code ?? 'unknown';
          return { ok: false, error: `Alibaba Cloud SMS: ${code}`, retry: !ALIYUN_PERMANENT.test(code) };
        } catch (err) {
          // The SDK throws for HTTP errors with the provider's code (e.g. SignatureDoesNotMatch).
          const code = String((err as { code?: string }).code ?? (err as Error).name);
          return { ok: false, error: `Alibaba Cloud SMS: ${code}`, retry: !ALIYUN_PERMANENT.test(code) };
        }
      }),
  };
}

/** Tencent Cloud codes (SendSms error codes) that retrying will not mend. */
const TENCENT_PERMANENT =
  /^(FailedOperation\.(PhoneNumberInBlacklist|SignatureIncorrectOrUnapproved|TemplateIncorrectOrUnapproved|ContainSensitiveWord|InsufficientBalanceInSmsPackage|PhoneNumberParseFail|MissingSignature.*|MissingTemplate.*)|InvalidParameterValue\..*|InvalidParameter.*|UnauthorizedOperation\..*|AuthFailure\..*|UnsupportedOperation\..*|LimitExceeded\.(PhoneNumberDailyLimit|PhoneNumberOneHourLimit|PhoneNumberSameContentDailyLimit|PhoneNumberThirtySecondLimit|DailyLimit))$/;

export function tencentSms(opts: CloudSmsOptions): CloudSms {
  const ep = opts.endpoint ? new URL(opts.endpoint) : null;
  const Client = tencent.sms.v20210111.Client;
  const client = new Client({
    credential: { secretId: opts.accessKeyId, secretKey: opts.accessKeySecret },
    region: opts.region,
    profile: {
      httpProfile: {
        endpoint: ep ? ep.host : 'sms.tencentcloudapi.com',
        protocol: ep ? `${ep.protocol}//` : 'https://',
        reqTimeout: Math.max(1, Math.ceil((opts.timeoutMs ?? 4000) / 1000)),
      },
    },
  });
  return {
    send: (to, m, signal) =>
      bounded(signal, async () => {
        const vars = templateVars(m);
        try {
          const res = await client.SendSms({
            PhoneNumberSet: [to],
            SmsSdkAppId: opts.appId ?? '',
            SignName: opts.sign,
            TemplateId: opts.template,
            TemplateParamSet: TENCENT_PARAM_ORDER.map((k) => vars[k]),
          });
          const status = res.SendStatusSet?.[0];
          if (status?.Code === 'Ok') return { ok: true, state: 'sent', providerId: status.SerialNo ? `tencent:${status.SerialNo}` : null };
          const code = status?.Code ?? 'unknown';
          return { ok: false, error: `Tencent Cloud SMS: ${code}`, retry: !TENCENT_PERMANENT.test(code) };
        } catch (err) {
          const code = String((err as { code?: string }).code || (err as Error).message);
          return { ok: false, error: `Tencent Cloud SMS: ${code.slice(0, 200)}`, retry: !TENCENT_PERMANENT.test(code) };
        }
      }),
  };
}

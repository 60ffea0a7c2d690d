// The mainland cloud SMS APIs, through their official SDKs: Alibaba Cloud (dysmsapi 2017-05-25,
// SendSms, signed ACS3-HMAC-SHA256 by @alicloud/openapi-client) and Tencent Cloud (sms 2021-01-11,
// SendSms, signed TC3-HMAC-SHA256 by tencentcloud-sdk-nodejs-sms). Both send an approved template
// with a signature, not free text: the template's variables are the alarm's parts and the link's
// token. An answer maps to a receipt: accepted (`sent`, with the provider's id), a refusal no retry
// can mend (bad number, template, signature, credentials), or one worth retrying (throttled,
// network, provider fault). Delivery receipts are read back through the same SDKs
// (QuerySendDetails, PullSmsSendStatus) by the poller in cloud-receipts.ts.
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

/** What the provider says of one message it took: still waiting, on the phone, or never will be. */
export interface CloudReport {
  /** aliyun:BizId or tencent:SerialNo, as the send's receipt gave it. */
  providerId: string;
  state: 'waiting' | 'delivered' | 'failed';
  error?: string;
}

/** A read of delivery states; a provider fault (network, throttling, credentials) is `ok: false`. */
export type CloudReportRead = { ok: true; reports: CloudReport[] } | { ok: false; error: string };

export interface CloudSms {
  provider: 'aliyun' | 'tencent';
  send(to: string, m: PersonMessage, signal: AbortSignal): Promise<Receipt>;
  /**
   * Alibaba Cloud: the state of one message (QuerySendDetails by number, BizId and send date).
   * Tencent Cloud: the next reports of the whole app (PullSmsSendStatus; each report comes once),
   * the arguments unused.
   */
  readReports(q: { providerId: string; phone: string; sentAt: string } | null, signal: AbortSignal): Promise<CloudReportRead>;
}

/** The number as Alibaba Cloud takes it: mainland numbers without +86; others with 00 and their country code. */
export const aliyunNumber = (e164: string) => (e164.startsWith('+86') ? e164.slice(3) : e164.replace(/^\+/, '00'));

/** yyyyMMdd of an instant in China Standard Time (UTC+8, no daylight saving): Alibaba's SendDate. */
export function chinaDate(iso: string): string {
  return new Date(Date.parse(iso) + 8 * 3600_000).toISOString().slice(0, 10).replaceAll('-', '');
}

/**
 * Races a provider call against a time budget (the SDKs keep their own timers, bounded too): the
 * call's answer, `late` once the signal aborts (or `late(true)` when no time was left to start),
 * or what `failed` makes of a thrown error.
 */
function raceSignal<T>(
  signal: AbortSignal,
  call: () => Promise<T>,
  late: (beforeStart: boolean) => T,
  failed: (err: unknown) => T,
): Promise<T> {
  if (signal.aborted) return Promise.resolve(late(true));
  return new Promise((resolve) => {
    const onAbort = () => resolve(late(false));
    signal.addEventListener('abort', onAbort, { once: true });
    call().then(
      (r) => {
        signal.removeEventListener('abort', onAbort);
        resolve(r);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        resolve(failed(err));
      },
    );
  });
}

const boundedRead = (signal: AbortSignal, call: () => Promise<CloudReportRead>) =>
  raceSignal<CloudReportRead>(
    signal,
    call,
    (before) => ({ ok: false, error: before ? 'no time left for the query' : 'SMS provider did not answer the query in time' }),
    (err) => {
      const code = String((err as { code?: string }).code || (err as Error).message || err);
      return { ok: false, error: `SMS provider: ${code.slice(0, 200)}` };
    },
  );

/**
 * Template variables: what, who, where, when, and the link's token, so a template reads e.g.
 * "${who}在${where}${what}，${when}。请点击 https://care.example.org/r/${token} 处理" (the
 * provider's template review wants a fixed domain; the variable is the token only).
 */
export const templateVars = (m: PersonMessage) => ({ ...m.vars, token: m.token });
/** Tencent's variables are positional: the same, in this order. */
export const TENCENT_PARAM_ORDER = ['what', 'who', 'where', 'when', 'token'] as const;

/** A send raced against the sender's budget; a late or failed one is worth retrying. */
const bounded = (signal: AbortSignal, call: () => Promise<Receipt>) =>
  raceSignal<Receipt>(
    signal,
    call,
    (before) => ({ ok: false, error: before ? 'no time left for the attempt' : 'SMS provider did not answer in time', retry: true }),
    (err) => ({ ok: false, error: `SMS provider: ${(err as Error).message?.slice(0, 200)}`, retry: true }),
  );

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
  type AliyunClient = {
    sendSmsWithOptions(req: dysms.SendSmsRequest, runtime: unknown): Promise<dysms.SendSmsResponse>;
    querySendDetailsWithOptions(req: dysms.QuerySendDetailsRequest, runtime: unknown): Promise<dysms.QuerySendDetailsResponse>;
  };
  const exported = (dysms as unknown as { default: { default?: unknown } }).default;
  const Client = (exported.default ?? exported) as new (c: unknown) => AliyunClient;
  const client = new Client(config);
  const timeout = opts.timeoutMs ?? 4000;
  return {
    provider: 'aliyun',
    send: (to, m, signal) =>
      bounded(signal, async () => {
        const req = new dysms.SendSmsRequest({
          phoneNumbers: aliyunNumber(to),
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
    // QuerySendDetails (dysmsapi 2017-05-25): SendStatus 1 waiting for the receipt, 2 failed, 3 delivered.
    readReports: (q, signal) =>
      boundedRead(signal, async () => {
        if (!q) return { ok: true, reports: [] };
        const bizId = q.providerId.replace(/^aliyun:/, '');
        const req = new dysms.QuerySendDetailsRequest({
          phoneNumber: aliyunNumber(q.phone),
          bizId,
          sendDate: chinaDate(q.sentAt),
          pageSize: 10,
          currentPage: 1,
        });
        const runtime = new TeaUtil.RuntimeOptions({ connectTimeout: timeout, readTimeout: timeout, autoretry: false, maxAttempts: 1 });
        const res = await client.querySendDetailsWithOptions(req, runtime);
        const body = res.body;
        if (body?.code !== 'OK') return { ok: false, error: `Alibaba Cloud SMS query: ${body?.code ?? 'unknown'}` };
        // Queried by BizId: every row is this message (one number). None yet: the provider has not filed it.
        const rows = body.smsSendDetailDTOs?.smsSendDetailDTO ?? [];
        const row = rows.find((r) => r.sendStatus === 3) ?? rows.find((r) => r.sendStatus === 2) ?? rows[0];
        const state = row?.sendStatus === 3 ? 'delivered' : row?.sendStatus === 2 ? 'failed' : 'waiting';
        return {
          ok: true,
          reports: [
            {
              providerId: q.providerId,
              state,
              ...(state === 'failed' ? { error: `Alibaba Cloud SMS: ${String(row?.errCode ?? 'not delivered').slice(0, 100)}` } : {}),
            },
          ],
        };
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
    provider: 'tencent',
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
    // PullSmsSendStatus (sms 2021-01-11): the app's reports not pulled before, at most 100;
    // ReportStatus SUCCESS (on the phone) or FAIL, with the carrier's Description.
    readReports: (_q, signal) =>
      boundedRead(signal, async () => {
        const res = await client.PullSmsSendStatus({ Limit: TENCENT_PULL_LIMIT, SmsSdkAppId: opts.appId ?? '' });
        const reports: CloudReport[] = [];
        for (const r of res.PullSmsSendStatusSet ?? []) {
          if (!r.SerialNo || (r.ReportStatus !== 'SUCCESS' && r.ReportStatus !== 'FAIL')) continue;
          const delivered = r.ReportStatus === 'SUCCESS';
          reports.push({
            providerId: `tencent:${r.SerialNo}`,
            state: delivered ? 'delivered' : 'failed',
            ...(delivered ? {} : { error: `Tencent Cloud SMS: FAIL ${String(r.Description ?? '').slice(0, 100)}`.trim() }),
          });
        }
        return { ok: true, reports };
      }),
  };
}

/** PullSmsSendStatus answers at most this many reports a call. */
export const TENCENT_PULL_LIMIT = 100;

// Settings of the channels that reach people's phones (DESIGN.md 3.9): Web Push keys, the SMS
// provider and the language of messages. Read from the environment here, in one TypeBox schema,
// and handed to server/config.ts; a bad key stops the server at start with a message naming it.
import Type, { type Static } from 'typebox';
import { Compile } from 'typebox/compile';

const Text = (max: number) => Type.String({ minLength: 1, maxLength: max });

/** The raw environment keys this module reads (all strings, all optional). */
export const ChannelsEnv = Type.Object({
  CARE_SMS_PROVIDER: Type.Optional(Type.Enum(['smpp', 'aliyun', 'tencent', ''] as const)),
  CARE_SMPP_URL: Type.Optional(Type.String({ pattern: '^smpps?://[^/@]+:[^/@]*@[^/@]+(:\\d{1,5})?/?$', maxLength: 500 })),
  CARE_SMPP_ENQUIRE_SECONDS: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,3}$' })),
  CARE_SMS_SENDER: Type.Optional(Text(21)),
  CARE_SMS_TEMPLATE: Type.Optional(Text(100)),
  CARE_SMS_SIGN: Type.Optional(Text(100)),
  CARE_SMS_ACCESS_KEY_ID: Type.Optional(Text(200)),
  CARE_SMS_ACCESS_KEY_SECRET: Type.Optional(Text(200)),
  CARE_SMS_REGION: Type.Optional(Type.String({ pattern: '^[a-z0-9-]{2,40}$' })),
  CARE_SMS_APP_ID: Type.Optional(Type.String({ pattern: '^[0-9]{1,20}$' })),
  CARE_SMS_ENDPOINT: Type.Optional(Type.String({ pattern: '^https?://[^\\s]+$', maxLength: 500 })),
  CARE_SMS_CALLBACK_SECRET: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]{32,128}$' })),
  CARE_VAPID_PUBLIC_KEY: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]{87}$' })),
  CARE_VAPID_PRIVATE_KEY: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]{43}$' })),
  CARE_VAPID_SUBJECT: Type.Optional(Type.String({ pattern: '^(mailto:[^\\s]+|https://[^\\s]+)$', maxLength: 300 })),
  CARE_MESSAGE_LANGUAGE: Type.Optional(Type.Enum(['zh-CN', 'en'] as const)),
  CARE_PUSH_ALLOW_HTTP: Type.Optional(Type.Enum(['on', 'off'] as const)),
});
export type ChannelsEnv = Static<typeof ChannelsEnv>;
const checkEnv = Compile(ChannelsEnv);

export const CHANNELS_ENV_HELP = `  CARE_PUBLIC_URL       the address people's phones reach this server at; every message carries
                        one link {CARE_PUBLIC_URL}/r/{token} [http://localhost:CARE_HTTP_PORT]
  CARE_MESSAGE_LANGUAGE zh-CN|en: language of push and SMS messages [zh-CN]
  CARE_VAPID_PUBLIC_KEY, CARE_VAPID_PRIVATE_KEY  Web Push (VAPID) key pair, base64url; both or
                        neither [generated once, kept in CARE_DATA_DIR/vapid.json, mode 0600]
  CARE_VAPID_SUBJECT    mailto: or https: contact the push services may use [mailto:admin@localhost]
  CARE_PUSH_ALLOW_HTTP  on|off: accept http:// push endpoints (a lab's own push service) [off]
  CARE_SMS_PROVIDER     smpp|aliyun|tencent [unset: no SMS; sms contacts fail, visibly]
  CARE_SMPP_URL         smpp://system_id:password@host:2775 of the SMSC (smpps:// for TLS)
  CARE_SMPP_ENQUIRE_SECONDS  enquire_link period on the SMPP bind [30]
  CARE_SMS_SENDER       SMPP source address (short code or number)
  CARE_SMS_TEMPLATE, CARE_SMS_SIGN  cloud SMS template id and signature (aliyun, tencent)
  CARE_SMS_ACCESS_KEY_ID, CARE_SMS_ACCESS_KEY_SECRET  cloud SMS credentials (Tencent: SecretId/Key)
  CARE_SMS_REGION       cloud SMS region [cn-hangzhou for aliyun, ap-guangzhou for tencent]
  CARE_SMS_APP_ID       Tencent SmsSdkAppId
  CARE_SMS_ENDPOINT     override the cloud SMS API address (tests, private endpoints)
  CARE_SMS_CALLBACK_SECRET  32-128 of [A-Za-z0-9_-]: accept the cloud provider's pushed delivery
                        reports at {CARE_PUBLIC_URL}/api/v1/sms/receipts/{provider}/{secret}
                        [unset: not accepted; receipts are pulled either way]`;

export type SmsConfig =
  | {
      provider: 'smpp';
      url: string;
      systemId: string;
      password: string;
      host: string;
      port: number;
      tls: boolean;
      sender: string;
      enquireMs: number;
    }
  | {
      provider: 'aliyun' | 'tencent';
      template: string;
      sign: string;
      accessKeyId: string;
      accessKeySecret: string;
      region: string;
      appId: string | undefined;
      endpoint: string | undefined;
      /** The path secret of the provider's delivery report callback; undefined: not accepted. */
      callbackSecret?: string | undefined;
    };

export interface ChannelsConfig {
  language: 'zh-CN' | 'en';
  /** Null: generate a pair once and keep it in the data directory. */
  vapid: { publicKey: string; privateKey: string } | null;
  vapidSubject: string;
  /** Accept plain http:// push endpoints (tests, a lab's push service); real ones are https. */
  pushAllowHttp: boolean;
  sms: SmsConfig | null;
}

export class ChannelsConfigError extends Error {}

export function loadChannelsConfig(env: Record<string, string | undefined>): ChannelsConfig {
  const raw: Record<string, string> = {};
  for (const key of Object.keys(ChannelsEnv.properties)) {
    const v = env[key];
    if (v !== undefined && v !== '') raw[key] = v;
  }
  if (!checkEnv.Check(raw)) {
    const first = [...checkEnv.Errors(raw)][0];
    const key = first?.instancePath.replace(/^\//, '') || 'channels';
    // The value is not repeated: it may be a secret.
    throw new ChannelsConfigError(`${key}: ${first?.message ?? 'invalid'}`);
  }
  const e = raw as ChannelsEnv;
  if (!!e.CARE_VAPID_PUBLIC_KEY !== !!e.CARE_VAPID_PRIVATE_KEY)
    throw new ChannelsConfigError(
      `${e.CARE_VAPID_PUBLIC_KEY ? 'CARE_VAPID_PRIVATE_KEY' : 'CARE_VAPID_PUBLIC_KEY'}: set both VAPID keys, or neither`,
    );
  const need = (key: keyof ChannelsEnv, why: string): string => {
    const v = e[key];
    if (!v) throw new ChannelsConfigError(`${key}: required ${why}`);
    return v;
  };
  let sms: SmsConfig | null = null;
  const provider = e.CARE_SMS_PROVIDER || undefined;
  if (provider === 'smpp') {
    const url = new URL(need('CARE_SMPP_URL', 'with CARE_SMS_PROVIDER=smpp'));
    sms = {
      provider,
      url: `${url.protocol}//${url.host}`,
      systemId: decodeURIComponent(url.username),
      password: decodeURIComponent(url.password),
      host: url.hostname,
      port: Number(url.port || (url.protocol === 'smpps:' ? 3550 : 2775)),
      tls: url.protocol === 'smpps:',
      sender: need('CARE_SMS_SENDER', 'with CARE_SMS_PROVIDER=smpp (the source address)'),
      enquireMs: Number(e.CARE_SMPP_ENQUIRE_SECONDS ?? 30) * 1000,
    };
  } else if (provider === 'aliyun' || provider === 'tencent') {
    const why = `with CARE_SMS_PROVIDER=${provider}`;
    sms = {
      provider,
      template: need('CARE_SMS_TEMPLATE', why),
      sign: need('CARE_SMS_SIGN', why),
      accessKeyId: need('CARE_SMS_ACCESS_KEY_ID', why),
      accessKeySecret: need('CARE_SMS_ACCESS_KEY_SECRET', why),
      region: e.CARE_SMS_REGION ?? (provider === 'aliyun' ? 'cn-hangzhou' : 'ap-guangzhou'),
      appId: provider === 'tencent' ? need('CARE_SMS_APP_ID', why) : undefined,
      endpoint: e.CARE_SMS_ENDPOINT,
      callbackSecret: e.CARE_SMS_CALLBACK_SECRET,
    };
  } else {
    for (const key of ['CARE_SMPP_URL', 'CARE_SMS_TEMPLATE', 'CARE_SMS_ACCESS_KEY_ID', 'CARE_SMS_CALLBACK_SECRET'] as const)
      if (e[key]) throw new ChannelsConfigError(`${key}: set, but CARE_SMS_PROVIDER is not`);
  }
  return {
    language: e.CARE_MESSAGE_LANGUAGE ?? 'zh-CN',
    vapid:
      e.CARE_VAPID_PUBLIC_KEY && e.CARE_VAPID_PRIVATE_KEY
        ? { publicKey: e.CARE_VAPID_PUBLIC_KEY, privateKey: e.CARE_VAPID_PRIVATE_KEY }
        : null,
    vapidSubject: e.CARE_VAPID_SUBJECT ?? 'mailto:admin@localhost',
    pushAllowHttp: e.CARE_PUSH_ALLOW_HTTP === 'on',
    sms,
  };
}

// Server configuration from the environment (DESIGN.md 3.2). Every key is checked at start; a bad
// one stops the process with a message naming it.
import fs from 'node:fs';
import path from 'node:path';
import Type, { type Static, type TSchema } from 'typebox';
import Value from 'typebox/value';
import { CHANNELS_ENV_HELP, type ChannelsConfig, loadChannelsConfig } from './channels/config.ts';
import { type Jt808Config, loadJt808Config } from './jt808/config.ts';
import { parsePublicUrl } from './respond/tokens.ts';
import { loadWatchConfig, type WatchConfig } from './watch/config.ts';

export interface ServerConfig {
  httpPort: number;
  mqttPort: number;
  bindHost: string;
  dataDir: string;
  adminPassword: string | undefined;
  tokenTtlMs: number;
  dashboardDir: string;
  logLevel: string;
  /** Failed logins a minute for one address and username. */
  loginRateLimit: number;
  /** Failed logins a minute from one address, all usernames; people's password hashing slots and line. */
  loginAddressLimit: number;
  loginHashConcurrency: number;
  loginHashQueue: number;
  /** Browser origins allowed to open /ws; empty means the server's own origin only. */
  allowedOrigins: string[];
  /** Messages per second one gateway may publish (sustained), and the burst it may save up. */
  mqttRatePerSecond: number;
  mqttBurst: number;
  /** Largest MQTT packet from a logged-in gateway; sockets waiting to log in, and for how long. */
  mqttMaxPacketBytes: number;
  mqttConnectTimeoutMs: number;
  mqttMaxPending: number;
  mqttMaxPendingPerAddress: number;
  /** Unknown devices with open alarms per gateway; past it, one summarising alarm per gateway. */
  unregisteredAlarmBudget: number;
  tls: { cert: string; key: string; ca: string | null; mqttsPort: number } | null;
  databaseUrl: string | undefined;
  mqttUrl: string | undefined;
  /** How gateway credentials reach the external broker: its dynamic-security plugin, or not at all (it asks our hooks). */
  mqttProvisioning: 'dynsec' | 'none';
  /** Bearer secret the broker presents to /broker/v1/* (EMQX-style HTTP auth hooks); unset: no hooks. */
  brokerHookSecret: string | undefined;
  /** Clustered broker: how often each instance says it is alive; one silent for 3 of these is dead. */
  brokerHeartbeatMs: number;
  /** Clustered embedded broker: instances share it (and the cross-instance bus) through Redis. */
  redisUrl: string | undefined;
  influx:
    | { version: 1; url: string; database: string; username?: string; password?: string }
    | { version: 2; url: string; token: string; org: string; bucket: string }
    | null;
  telemetryRetentionDays: number;
  /** At most this many messages to one contact (webhook URL, phone number) in the window, then one notice. */
  notifyCapPerContact: number;
  notifyCapWindowMs: number;
  /** What is served without a login: /metrics, the API docs, the dashboard's source map. */
  exposure: Exposure;
  /** Web Push and SMS (server/channels/config.ts reads its own keys). */
  channels: ChannelsConfig;
  /** CARE_PUBLIC_URL (server/respond/tokens.ts reads it): response links' base; null: the server's own URL. */
  publicUrl: string | null;
  /** Map tiles for the community centre's board (`{z}/{x}/{y}` template); null: no tiles, markers only. */
  mapTileUrl: string | null;
  /** The GPS watch listener (server/watch/config.ts reads its own keys); null: off. */
  watch: WatchConfig | null;
  /** The JT/T 808 listener (server/jt808/config.ts); null: off. */
  jt808: Jt808Config | null;
}

export interface Exposure {
  /** Bearer token /metrics asks for; null: none set. */
  metricsToken: string | null;
  /** /metrics without a token: only when no token is set and the server listens on loopback alone. */
  metricsWithoutToken: boolean;
  /** /docs and /docs/json (OpenAPI). */
  apiDocs: boolean;
  /** dashboard/dist/*.map. */
  sourceMaps: boolean;
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

/**
 * What the help shows of a key besides its schema: `defaultText` when the default is not a plain
 * value (computed, generated); `secret` keeps the value out of error messages; `message` says what
 * a wrong value should have been, instead of the schema's own words.
 */
interface KeyDoc {
  description: string;
  defaultText?: string;
  secret?: boolean;
  message?: string;
}
const Port = (value: number, doc: KeyDoc) =>
  Type.Integer({ minimum: 0, maximum: 65535, default: value, message: 'is not a port number (0-65535)', ...doc });
const Count = (value: number, doc: KeyDoc, minimum = 1) => Type.Integer({ minimum, default: value, ...doc });
const OnOff = (value: 'on' | 'off', doc: KeyDoc) => Type.Enum(['on', 'off'] as const, { default: value, ...doc });
const OptionalOnOff = (doc: KeyDoc) => Type.Optional(Type.Enum(['on', 'off'] as const, { ...doc }));
const Text = (doc: KeyDoc & { pattern?: string; minLength?: number; maxLength?: number }) =>
  Type.Optional(Type.String({ ...doc } as Record<string, unknown>));
const Url = (schemes: string, doc: KeyDoc) =>
  Text({
    pattern: `^(${schemes})://[^/]+`,
    message: `must be a ${schemes
      .split('|')
      .map((x) => `${x}://`)
      .join(' or ')} URL`,
    secret: true,
    ...doc,
  });

/**
 * Every CARE_* key the server reads itself, with its check, its default and its help: defaults are
 * written here once, `--help` is printed from this (SERVER_ENV_HELP), and a bad value stops the
 * start naming its key. Keys that only make sense together (TLS, InfluxDB, a cluster) are checked
 * after, in loadServerConfig. Web Push and SMS keys are server/channels/config.ts's own schema.
 */
export const ServerEnv = Type.Object({
  CARE_HTTP_PORT: Port(8080, { description: 'REST API, dashboard and WebSocket /ws' }),
  CARE_MQTT_PORT: Port(1883, { description: 'embedded MQTT broker for gateways' }),
  CARE_JT808_PORT: Type.String({
    pattern: '^(off|[0-9]{1,5})$',
    default: 'off',
    message: 'is not a port number (0-65535) or off',
    description:
      'TCP port for GPS watches and pendants speaking JT/T 808 (2013/2019; terminal phone number = device id); connection bounds as CARE_WATCH_*, each listener its own',
  }),
  CARE_BIND_HOST: Type.String({ minLength: 1, default: '0.0.0.0', description: 'address to listen on' }),
  CARE_DATA_DIR: Type.String({ minLength: 1, default: './data', description: 'SQLite state and telemetry' }),
  CARE_ADMIN_PASSWORD: Text({
    minLength: 10,
    secret: true,
    message: 'must be at least 10 characters',
    description: 'password of user "admin", created on first start',
    defaultText: 'generated, printed once',
  }),
  CARE_TOKEN_TTL_MINUTES: Type.Integer({
    minimum: 1,
    maximum: 7 * 24 * 60,
    default: 720,
    message: 'must be 1-10080',
    description: 'login session lifetime',
  }),
  CARE_LOG_LEVEL: Type.Enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, {
    default: 'info',
    description: 'pino level',
  }),
  CARE_CONFIG_FILE: Text({ description: 'a JSON file of these keys (also --config FILE); the environment wins', defaultText: 'none' }),
  CARE_MQTT_URL: Url('mqtt|mqtts', {
    description:
      'mqtt://user:pass@host:1883 of an external broker (Mosquitto 2 with the dynamic-security plugin) to join instead of the embedded one; several server instances then share ingest',
    defaultText: 'unset: embedded Aedes',
  }),
  CARE_DATABASE_URL: Url('postgres|postgresql', {
    description:
      'postgres://user:pass@host/db: state in PostgreSQL, shared by several server instances; alarm changes cross them by LISTEN/NOTIFY',
    defaultText: 'unset: SQLite under CARE_DATA_DIR',
    message: 'must start with postgres:// (unset it to use SQLite)',
  }),
  CARE_MQTT_PROVISIONING: Type.Enum(['dynsec', 'none'] as const, {
    default: 'dynsec',
    description:
      "dynsec: gateway credentials and ACLs go into Mosquitto 2's dynamic-security plugin; none: the broker asks this server instead, through the HTTP hooks below (EMQX)",
  }),
  CARE_BROKER_HOOK_SECRET: Text({
    minLength: 16,
    secret: true,
    message: 'must be at least 16 characters',
    description:
      'serve POST /broker/v1/authenticate and /broker/v1/authorize (EMQX 5 HTTP authentication and authorisation), which the broker calls with this secret as a bearer token; at least 16 characters',
    defaultText: 'unset: no hooks',
  }),
  CARE_REDIS_URL: Url('redis|rediss', {
    description:
      'redis://[:pass@]host:6379: cluster the embedded broker with the other instances through Redis (mqemitter-redis, aedes-persistence-redis), so a gateway may connect to any of them; needs CARE_DATABASE_URL',
    defaultText: 'unset',
  }),
  CARE_BROKER_HEARTBEAT_SECONDS: Count(60, {
    description: "clustered broker: each instance's heartbeat to the others; one silent for three is taken for dead",
  }),
  CARE_LOGIN_RATE_LIMIT: Count(10, { description: 'failed logins a minute for one username from one address; a success clears them' }),
  CARE_LOGIN_ADDRESS_LIMIT: Count(50, {
    description:
      'failed logins a minute from one address, all usernames; accounts that logged in from that address in the last 7 days are not held to it',
  }),
  CARE_LOGIN_HASH_CONCURRENCY: Count(2, { description: 'passwords checked at once (scrypt threads logins may use)' }),
  CARE_LOGIN_HASH_QUEUE: Count(32, { description: 'logins waiting for a check; past it a login answers 503' }),
  CARE_ALLOWED_ORIGINS: Text({
    description: 'extra browser origins allowed to open /ws, comma-separated',
    defaultText: 'own origin only',
  }),
  CARE_MAP_TILE_URL: Text({
    description: "map tiles for the community centre's board, e.g. https://tiles.example.org/{z}/{x}/{y}.png",
    defaultText: 'unset: no tiles; homes are markers on a plain background, which works offline',
  }),
  CARE_MQTT_RATE: Count(1000, { description: 'messages per second one gateway may publish, sustained' }),
  CARE_MQTT_BURST: Count(10_000, { description: 'messages a gateway may send in a burst above that' }),
  CARE_MQTT_MAX_PACKET_BYTES: Count(
    1024 * 1024,
    {
      description:
        'largest MQTT packet a logged-in gateway may send; before log-in the limit is 64 KiB; a larger packet closes the connection at its header',
    },
    64 * 1024,
  ),
  CARE_MQTT_CONNECT_TIMEOUT_SECONDS: Count(10, {
    description: 'time from opening an MQTT connection to being logged in (TLS handshake included)',
  }),
  CARE_MQTT_MAX_PENDING: Count(1000, { description: 'MQTT connections waiting to log in, all listeners together' }),
  CARE_MQTT_MAX_PENDING_PER_ADDRESS: Count(100, { description: 'the same from one address' }),
  CARE_UNREGISTERED_ALARM_BUDGET: Count(20, {
    description: 'unknown devices with open alarms per gateway; past it their alarms count on one "unregistered_devices" alarm per gateway',
  }),
  CARE_TLS_CERT: Text({ description: 'PEM file: HTTPS on CARE_HTTP_PORT and MQTT over TLS, with CARE_TLS_KEY', defaultText: 'off' }),
  CARE_TLS_KEY: Text({ description: "PEM file: the certificate's private key", defaultText: 'off' }),
  CARE_MQTTS_PORT: Type.Optional(
    Type.Integer({
      minimum: 0,
      maximum: 65535,
      message: 'is not a port number (0-65535)',
      description: 'MQTT over TLS',
      defaultText: '8883 when a certificate is set',
    }),
  ),
  CARE_TLS_CA: Text({
    description: 'PEM CA: gateways on mqtts must present a client certificate it signed, whose common name is the gateway id (mTLS)',
    defaultText: 'off',
  }),
  CARE_TELEMETRY_RETENTION_DAYS: Count(90, { description: 'days vital signs and battery readings are kept' }),
  CARE_NOTIFY_CAP_PER_CONTACT: Count(10, {
    description:
      'messages one contact (webhook URL, phone number) gets in the window below; the next is a notice that more are held back, the rest are recorded as suppressed and shown on screens only',
  }),
  CARE_NOTIFY_CAP_WINDOW_SECONDS: Count(600, { description: 'that window' }),
  CARE_METRICS_TOKEN: Text({
    minLength: 16,
    maxLength: 200,
    pattern: '^\\S+$',
    secret: true,
    message: 'must be 16-200 characters without spaces',
    description:
      '/metrics asks for "Authorization: Bearer <this>"; unset, /metrics is open when CARE_BIND_HOST is loopback and not served otherwise',
  }),
  CARE_API_DOCS: OnOff('on', { description: 'OpenAPI at /docs and /docs/json, without login' }),
  CARE_SOURCE_MAPS: OptionalOnOff({
    description: "serve the dashboard's source map",
    defaultText: 'off when NODE_ENV=production, else on',
  }),
  CARE_INFLUX_URL: Url('http|https', {
    description: 'http(s)://host:8086: telemetry in InfluxDB instead of the state database, with one of the two sets below',
    defaultText: 'unset: telemetry in SQLite/PostgreSQL',
  }),
  CARE_INFLUX_DATABASE: Text({ description: 'InfluxDB 1.x database (created if missing, with a retention policy)' }),
  CARE_INFLUX_USERNAME: Text({ description: 'InfluxDB 1.x user, with CARE_INFLUX_PASSWORD', defaultText: 'none' }),
  CARE_INFLUX_PASSWORD: Text({ description: 'InfluxDB 1.x password', secret: true, defaultText: 'none' }),
  CARE_INFLUX_TOKEN: Text({ description: 'InfluxDB 2.x/3.x token, with CARE_INFLUX_ORG and CARE_INFLUX_BUCKET', secret: true }),
  CARE_INFLUX_ORG: Text({ description: 'InfluxDB 2.x/3.x organisation' }),
  CARE_INFLUX_BUCKET: Text({ description: "InfluxDB 2.x/3.x bucket (the bucket's own retention applies)" }),
});
export type ServerEnv = Static<typeof ServerEnv>;

/** Keys read by their own modules, documented here so that --help lists every key in one place. */
const OTHER_KEYS_HELP = `${CHANNELS_ENV_HELP}
  CARE_WATCH_PORT       TCP port for GPS watches in the "watch" protocol ([3G*IMEI*LEN*...]);
                        off: no listener [5093; any free port under the test runner]
  CARE_WATCH_MAX_PER_ADDRESS  watch connections at once from one address [200]
  CARE_WATCH_MAX_CONNECTIONS  watch connections at once, all addresses [10000]
  CARE_WATCH_IDLE_SECONDS  a watch connection silent this long is closed [900]
  CARE_WATCH_MAX_FRAME_BYTES  largest watch frame content accepted [4096]`;

type KeySchema = TSchema & KeyDoc & { default?: unknown; enum?: readonly string[] };
const keySchemas = () => Object.entries(ServerEnv.properties) as unknown as Array<[keyof ServerEnv & string, KeySchema]>;

/** Words wrapped to the help's second column. */
function helpLine(key: string, text: string): string {
  const indent = ' '.repeat(24);
  const head = key.length <= 21 ? `  ${key.padEnd(22)}` : `  ${key}  `;
  const lines: string[] = [];
  let line = head;
  for (const word of text.split(' ')) {
    if (line.length + word.length + 1 > 100 && line.trim() !== '' && line !== head) {
      lines.push(line.trimEnd());
      line = indent;
    }
    line += line === head || line === indent ? word : ` ${word}`;
  }
  lines.push(line);
  return lines.join('\n');
}

export const SERVER_ENV_HELP = `Environment (defaults in brackets):
${keySchemas()
  .map(([key, s]) => {
    const choices = s.enum ? `${s.enum.join('|')}: ` : '';
    const dflt = s.defaultText ?? (s.default === undefined ? undefined : String(s.default));
    return helpLine(key, `${choices}${s.description}${dflt === undefined ? '' : ` [${dflt}]`}`);
  })
  .join('\n')}
${OTHER_KEYS_HELP}`;

export class ConfigError extends Error {}

/**
 * The optional config file (`--config FILE` or CARE_CONFIG_FILE): a JSON object of the same
 * CARE_* keys. The environment wins over the file, so one file can serve several hosts.
 */
export function withConfigFile(env: NodeJS.ProcessEnv, file: string | undefined): NodeJS.ProcessEnv {
  if (!file) return env;
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError(`config file ${file}: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new ConfigError(`config file ${file}: must be a JSON object of CARE_* keys`);
  const fromFile: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(parsed)) {
    if (!/^CARE_[A-Z_]+$/.test(key)) throw new ConfigError(`config file ${file}: "${key}" is not a CARE_* setting`);
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
      throw new ConfigError(`config file ${file}: ${key} must be a string, number or boolean`);
    }
    fromFile[key] = String(value);
  }
  return { ...fromFile, ...env };
}

/** Why a value does not fit its key's schema, in the help's words. */
function expected(s: KeySchema): string {
  if (s.message) return s.message;
  if (s.enum) return `is not ${s.enum.join(' or ')}`;
  const n = s as { minimum?: number; maximum?: number };
  if (n.maximum !== undefined) return `must be a whole number from ${n.minimum} to ${n.maximum}`;
  return `must be a whole number of at least ${n.minimum}`;
}

/**
 * The environment's CARE_* keys, each checked against its schema and defaulted from it. An empty
 * value counts as unset. A wrong value throws a ConfigError naming the key (and the value, unless
 * the key holds a secret or credentials).
 */
export function readServerEnv(env: NodeJS.ProcessEnv): ServerEnv {
  const out: Record<string, unknown> = {};
  for (const [key, s] of keySchemas()) {
    const raw = env[key];
    if (raw === undefined || raw === '') {
      if (s.default !== undefined) out[key] = s.default;
      continue;
    }
    const value = (s as { type?: string }).type === 'integer' && /^\s*-?\d+\s*$/.test(raw) ? Number(raw) : raw;
    if (!Value.Check(s, value)) throw new ConfigError(`${key}: ${s.secret ? '' : `"${raw}" `}${expected(s)}`);
    out[key] = value;
  }
  return out as ServerEnv;
}

export function loadServerConfig(env: NodeJS.ProcessEnv = process.env): ServerConfig {
  const e = readServerEnv(env);
  const origins = (e.CARE_ALLOWED_ORIGINS ?? '')
    .split(',')
    .map((o) => o.trim())
    .filter(Boolean);
  for (const o of origins) {
    if (!/^https?:\/\/[^/]+$/.test(o))
      throw new ConfigError(`CARE_ALLOWED_ORIGINS: "${o}" is not an origin like https://screen.example.org`);
  }
  let tls: ServerConfig['tls'] = null;
  if (e.CARE_TLS_CERT || e.CARE_TLS_KEY) {
    if (!e.CARE_TLS_CERT) throw new ConfigError('CARE_TLS_CERT: required when CARE_TLS_KEY is set');
    if (!e.CARE_TLS_KEY) throw new ConfigError('CARE_TLS_KEY: required when CARE_TLS_CERT is set');
    const read = (key: 'CARE_TLS_CERT' | 'CARE_TLS_KEY' | 'CARE_TLS_CA') => {
      const file = e[key] as string;
      try {
        return fs.readFileSync(file, 'utf8');
      } catch (err) {
        throw new ConfigError(`${key}: cannot read ${file}: ${(err as Error).message}`);
      }
    };
    tls = {
      cert: read('CARE_TLS_CERT'),
      key: read('CARE_TLS_KEY'),
      ca: e.CARE_TLS_CA ? read('CARE_TLS_CA') : null,
      mqttsPort: e.CARE_MQTTS_PORT ?? 8883,
    };
  } else if (e.CARE_TLS_CA || e.CARE_MQTTS_PORT !== undefined) {
    throw new ConfigError(`${e.CARE_TLS_CA ? 'CARE_TLS_CA' : 'CARE_MQTTS_PORT'}: needs CARE_TLS_CERT and CARE_TLS_KEY`);
  }
  const databaseUrl = e.CARE_DATABASE_URL;
  const mqttUrl = e.CARE_MQTT_URL;
  const provisioning = e.CARE_MQTT_PROVISIONING;
  if (env.CARE_MQTT_PROVISIONING && !mqttUrl) throw new ConfigError('CARE_MQTT_PROVISIONING: set, but CARE_MQTT_URL is not');
  const hookSecret = e.CARE_BROKER_HOOK_SECRET;
  if (provisioning === 'none' && !hookSecret)
    throw new ConfigError('CARE_BROKER_HOOK_SECRET: required with CARE_MQTT_PROVISIONING=none, or nothing would check gateway credentials');
  const redisUrl = e.CARE_REDIS_URL;
  if (redisUrl) {
    if (mqttUrl) throw new ConfigError('CARE_REDIS_URL: clusters the embedded broker; it cannot be used with CARE_MQTT_URL');
    if (!databaseUrl)
      throw new ConfigError('CARE_REDIS_URL: clustered instances must share state: set CARE_DATABASE_URL (postgres://) too');
  }
  let influx: ServerConfig['influx'] = null;
  if (e.CARE_INFLUX_URL) {
    const url = e.CARE_INFLUX_URL;
    if (e.CARE_INFLUX_DATABASE) {
      // Both sets at once is a mistake either way: refuse it rather than guess the version.
      for (const key of ['CARE_INFLUX_TOKEN', 'CARE_INFLUX_ORG', 'CARE_INFLUX_BUCKET'] as const) {
        if (e[key]) throw new ConfigError(`${key}: InfluxDB 2.x setting given with CARE_INFLUX_DATABASE (1.x); set one or the other`);
      }
      if (e.CARE_INFLUX_USERNAME && !e.CARE_INFLUX_PASSWORD)
        throw new ConfigError('CARE_INFLUX_PASSWORD: required with CARE_INFLUX_USERNAME');
      if (e.CARE_INFLUX_PASSWORD && !e.CARE_INFLUX_USERNAME)
        throw new ConfigError('CARE_INFLUX_USERNAME: required with CARE_INFLUX_PASSWORD');
      influx = { version: 1, url, database: e.CARE_INFLUX_DATABASE, username: e.CARE_INFLUX_USERNAME, password: e.CARE_INFLUX_PASSWORD };
    } else if (e.CARE_INFLUX_TOKEN || e.CARE_INFLUX_ORG || e.CARE_INFLUX_BUCKET) {
      const need = (key: 'CARE_INFLUX_TOKEN' | 'CARE_INFLUX_ORG' | 'CARE_INFLUX_BUCKET') => {
        const v = e[key];
        if (!v) throw new ConfigError(`${key}: required for InfluxDB 2.x/3.x with CARE_INFLUX_URL`);
        return v;
      };
      const v2 = { token: need('CARE_INFLUX_TOKEN'), org: need('CARE_INFLUX_ORG'), bucket: need('CARE_INFLUX_BUCKET') };
      for (const key of ['CARE_INFLUX_USERNAME', 'CARE_INFLUX_PASSWORD'] as const) {
        if (e[key]) throw new ConfigError(`${key}: for InfluxDB 1.x only; 2.x/3.x signs in with CARE_INFLUX_TOKEN`);
      }
      influx = { version: 2, url, ...v2 };
    } else {
      throw new ConfigError(
        'CARE_INFLUX_DATABASE: required with CARE_INFLUX_URL for InfluxDB 1.x (or CARE_INFLUX_TOKEN/ORG/BUCKET for 2.x)',
      );
    }
  } else {
    for (const key of [
      'CARE_INFLUX_DATABASE',
      'CARE_INFLUX_TOKEN',
      'CARE_INFLUX_ORG',
      'CARE_INFLUX_BUCKET',
      'CARE_INFLUX_USERNAME',
      'CARE_INFLUX_PASSWORD',
    ] as const) {
      if (e[key]) throw new ConfigError(`${key}: set, but CARE_INFLUX_URL is not`);
    }
  }
  const metricsToken = e.CARE_METRICS_TOKEN ?? null;
  const bindHost = e.CARE_BIND_HOST;
  const mapTileUrl = e.CARE_MAP_TILE_URL?.trim() || null;
  if (mapTileUrl !== null && (!/^https?:\/\/[^/\s]+\/\S*$/.test(mapTileUrl) || !['{z}', '{x}', '{y}'].every((p) => mapTileUrl.includes(p))))
    throw new ConfigError(`CARE_MAP_TILE_URL: "${mapTileUrl}" is not a tile URL like https://tiles.example.org/{z}/{x}/{y}.png`);
  let publicUrl: string | null;
  try {
    publicUrl = parsePublicUrl(env);
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
  let channels: ChannelsConfig;
  try {
    channels = loadChannelsConfig(env);
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
  return {
    channels,
    publicUrl,
    mapTileUrl,
    watch: loadWatchConfig(env),
    jt808: loadJt808Config(e.CARE_JT808_PORT, env),
    influx,
    telemetryRetentionDays: e.CARE_TELEMETRY_RETENTION_DAYS,
    notifyCapPerContact: e.CARE_NOTIFY_CAP_PER_CONTACT,
    notifyCapWindowMs: e.CARE_NOTIFY_CAP_WINDOW_SECONDS * 1000,
    mqttUrl,
    mqttProvisioning: provisioning,
    brokerHookSecret: hookSecret,
    redisUrl,
    brokerHeartbeatMs: e.CARE_BROKER_HEARTBEAT_SECONDS * 1000,
    databaseUrl,
    tls,
    loginRateLimit: e.CARE_LOGIN_RATE_LIMIT,
    loginAddressLimit: e.CARE_LOGIN_ADDRESS_LIMIT,
    loginHashConcurrency: e.CARE_LOGIN_HASH_CONCURRENCY,
    loginHashQueue: e.CARE_LOGIN_HASH_QUEUE,
    allowedOrigins: origins,
    mqttRatePerSecond: e.CARE_MQTT_RATE,
    mqttBurst: e.CARE_MQTT_BURST,
    mqttMaxPacketBytes: e.CARE_MQTT_MAX_PACKET_BYTES,
    mqttConnectTimeoutMs: e.CARE_MQTT_CONNECT_TIMEOUT_SECONDS * 1000,
    mqttMaxPending: e.CARE_MQTT_MAX_PENDING,
    mqttMaxPendingPerAddress: e.CARE_MQTT_MAX_PENDING_PER_ADDRESS,
    unregisteredAlarmBudget: e.CARE_UNREGISTERED_ALARM_BUDGET,
    httpPort: e.CARE_HTTP_PORT,
    mqttPort: e.CARE_MQTT_PORT,
    bindHost,
    exposure: {
      metricsToken,
      metricsWithoutToken: metricsToken === null && LOOPBACK.test(bindHost),
      apiDocs: e.CARE_API_DOCS === 'on',
      sourceMaps: (e.CARE_SOURCE_MAPS ?? (env.NODE_ENV === 'production' ? 'off' : 'on')) === 'on',
    },
    dataDir: path.resolve(e.CARE_DATA_DIR),
    adminPassword: e.CARE_ADMIN_PASSWORD,
    tokenTtlMs: e.CARE_TOKEN_TTL_MINUTES * 60_000,
    dashboardDir: path.resolve(import.meta.dirname, '../dashboard/dist'),
    logLevel: e.CARE_LOG_LEVEL,
  };
}

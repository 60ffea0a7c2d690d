// Server configuration from the environment (DESIGN.md 3.2). Every key is checked at start; a bad
// one stops the process with a message naming it.
import fs from 'node:fs';
import path from 'node:path';
import { CHANNELS_ENV_HELP, type ChannelsConfig, loadChannelsConfig } from './channels/config.ts';
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

export const SERVER_ENV_HELP = `Environment (defaults in brackets):
  CARE_HTTP_PORT        REST API, dashboard and WebSocket /ws [8080]
  CARE_MQTT_PORT        embedded MQTT broker for gateways [1883]
  CARE_BIND_HOST        address to listen on [0.0.0.0]
  CARE_DATA_DIR         SQLite state and telemetry [./data]
  CARE_ADMIN_PASSWORD   password of user "admin", created on first start [generated, printed once]
  CARE_TOKEN_TTL_MINUTES  login session lifetime [720]
  CARE_LOG_LEVEL        pino level [info]
  CARE_CONFIG_FILE      a JSON file of these keys (also --config FILE); the environment wins
  CARE_MQTT_URL         mqtt://user:pass@host:1883 of an external broker (Mosquitto 2 with the
                        dynamic-security plugin) to join instead of the embedded one; several
                        server instances then share ingest [unset: embedded Aedes]
  CARE_DATABASE_URL     postgres://user:pass@host/db: state in PostgreSQL, shared by several
                        server instances; alarm changes cross them by LISTEN/NOTIFY
                        [unset: SQLite under CARE_DATA_DIR]
  CARE_MQTT_PROVISIONING  dynsec: gateway credentials and ACLs go into Mosquitto 2's dynamic-
                        security plugin; none: the broker asks this server instead, through the
                        HTTP hooks below (EMQX) [dynsec]
  CARE_BROKER_HOOK_SECRET  serve POST /broker/v1/authenticate and /broker/v1/authorize (EMQX 5
                        HTTP authentication and authorisation), which the broker calls with this
                        secret as a bearer token; at least 16 characters [unset: no hooks]
  CARE_REDIS_URL        redis://[:pass@]host:6379: cluster the embedded broker with the other
                        instances through Redis (mqemitter-redis, aedes-persistence-redis), so a
                        gateway may connect to any of them; needs CARE_DATABASE_URL [unset]
  CARE_BROKER_HEARTBEAT_SECONDS  clustered broker: each instance's heartbeat to the others;
                        one silent for three is taken for dead [60]
  CARE_LOGIN_RATE_LIMIT failed logins a minute for one username from one address; a success
                        clears them [10]
  CARE_LOGIN_ADDRESS_LIMIT  failed logins a minute from one address, all usernames; accounts that
                        logged in from that address in the last 7 days are not held to it [50]
  CARE_LOGIN_HASH_CONCURRENCY  passwords checked at once (scrypt threads logins may use) [2]
  CARE_LOGIN_HASH_QUEUE logins waiting for a check; past it a login answers 503 [32]
  CARE_ALLOWED_ORIGINS  extra browser origins allowed to open /ws, comma-separated [own origin only]
  CARE_MAP_TILE_URL     map tiles for the community centre's board, e.g.
                        https://tiles.example.org/{z}/{x}/{y}.png [unset: no tiles; homes are
                        markers on a plain background, which works offline]
  CARE_MQTT_RATE        messages per second one gateway may publish, sustained [1000]
  CARE_MQTT_BURST       messages a gateway may send in a burst above that [10000]
  CARE_MQTT_MAX_PACKET_BYTES  largest MQTT packet a logged-in gateway may send; before log-in
                        the limit is 64 KiB; a larger packet closes the connection at its
                        header [1048576]
  CARE_MQTT_CONNECT_TIMEOUT_SECONDS  time from opening an MQTT connection to being logged in
                        (TLS handshake included) [10]
  CARE_MQTT_MAX_PENDING  MQTT connections waiting to log in, all listeners together [1000]
  CARE_MQTT_MAX_PENDING_PER_ADDRESS  the same from one address [100]
  CARE_UNREGISTERED_ALARM_BUDGET  unknown devices with open alarms per gateway; past it their
                        alarms count on one "unregistered_devices" alarm per gateway [20]
  CARE_TLS_CERT, CARE_TLS_KEY  PEM files: HTTPS on CARE_HTTP_PORT and MQTT over TLS [off]
  CARE_MQTTS_PORT       MQTT over TLS [8883 when a certificate is set]
  CARE_TLS_CA           PEM CA: gateways on mqtts must present a client certificate it signed,
                        whose common name is the gateway id (mTLS) [off]
  CARE_TELEMETRY_RETENTION_DAYS  days vital signs and battery readings are kept [90]
  CARE_NOTIFY_CAP_PER_CONTACT  messages one contact (webhook URL, phone number) gets in the
                        window below; the next is a notice that more are held back, the rest
                        are recorded as suppressed and shown on screens only [10]
  CARE_NOTIFY_CAP_WINDOW_SECONDS  that window [600]
  CARE_METRICS_TOKEN    /metrics asks for "Authorization: Bearer <this>" (16+ characters); unset,
                        /metrics is open when CARE_BIND_HOST is loopback and not served otherwise
  CARE_API_DOCS         on|off: OpenAPI at /docs and /docs/json, without login [on]
  CARE_SOURCE_MAPS      on|off: serve the dashboard's source map [off when NODE_ENV=production, else on]
  CARE_INFLUX_URL       http(s)://host:8086: telemetry in InfluxDB instead of the state database,
                        with one of the two sets below [unset: telemetry in SQLite/PostgreSQL]
  CARE_INFLUX_DATABASE  InfluxDB 1.x database (created if missing, with a retention policy)
  CARE_INFLUX_USERNAME, CARE_INFLUX_PASSWORD  InfluxDB 1.x credentials [none]
  CARE_INFLUX_TOKEN, CARE_INFLUX_ORG, CARE_INFLUX_BUCKET  InfluxDB 2.x/3.x (all three; the
                        bucket's own retention applies)
${CHANNELS_ENV_HELP}
  CARE_WATCH_PORT       TCP port for GPS watches in the "watch" protocol ([3G*IMEI*LEN*...]);
                        off: no listener [5093; any free port under the test runner]
  CARE_WATCH_MAX_PER_ADDRESS  watch connections at once from one address [200]
  CARE_WATCH_MAX_CONNECTIONS  watch connections at once, all addresses [10000]
  CARE_WATCH_IDLE_SECONDS  a watch connection silent this long is closed [900]
  CARE_WATCH_MAX_FRAME_BYTES  largest watch frame content accepted [4096]`;

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

function port(env: NodeJS.ProcessEnv, key: string, fallback: number): number {
  const raw = env[key];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new ConfigError(`${key}: "${raw}" is not a port number (0-65535)`);
  return n;
}

export function loadServerConfig(env: NodeJS.ProcessEnv = process.env): ServerConfig {
  const ttl = Number(env.CARE_TOKEN_TTL_MINUTES ?? 720);
  if (!Number.isFinite(ttl) || ttl < 1 || ttl > 7 * 24 * 60) throw new ConfigError('CARE_TOKEN_TTL_MINUTES: must be 1-10080');
  const pw = env.CARE_ADMIN_PASSWORD;
  if (pw !== undefined && pw !== '' && pw.length < 10) throw new ConfigError('CARE_ADMIN_PASSWORD: must be at least 10 characters');
  const level = env.CARE_LOG_LEVEL ?? 'info';
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(level))
    throw new ConfigError(`CARE_LOG_LEVEL: unknown level "${level}"`);
  const positive = (key: string, fallback: number) => {
    const raw = env[key];
    if (raw === undefined || raw === '') return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1) throw new ConfigError(`${key}: "${raw}" must be a whole number of at least 1`);
    return n;
  };
  const atLeast = (key: string, fallback: number, min: number) => {
    const n = positive(key, fallback);
    if (n < min) throw new ConfigError(`${key}: "${env[key]}" must be at least ${min}`);
    return n;
  };
  const origins = (env.CARE_ALLOWED_ORIGINS ?? '')
    .split(',')
    .map((o) => o.trim())
    .filter(Boolean);
  for (const o of origins) {
    if (!/^https?:\/\/[^/]+$/.test(o))
      throw new ConfigError(`CARE_ALLOWED_ORIGINS: "${o}" is not an origin like https://screen.example.org`);
  }
  let tls: ServerConfig['tls'] = null;
  if (env.CARE_TLS_CERT || env.CARE_TLS_KEY) {
    if (!env.CARE_TLS_CERT) throw new ConfigError('CARE_TLS_CERT: required when CARE_TLS_KEY is set');
    if (!env.CARE_TLS_KEY) throw new ConfigError('CARE_TLS_KEY: required when CARE_TLS_CERT is set');
    const read = (key: string) => {
      const file = env[key] as string;
      try {
        return fs.readFileSync(file, 'utf8');
      } catch (err) {
        throw new ConfigError(`${key}: cannot read ${file}: ${(err as Error).message}`);
      }
    };
    tls = {
      cert: read('CARE_TLS_CERT'),
      key: read('CARE_TLS_KEY'),
      ca: env.CARE_TLS_CA ? read('CARE_TLS_CA') : null,
      mqttsPort: port(env, 'CARE_MQTTS_PORT', 8883),
    };
  } else if (env.CARE_TLS_CA || env.CARE_MQTTS_PORT) {
    throw new ConfigError(`${env.CARE_TLS_CA ? 'CARE_TLS_CA' : 'CARE_MQTTS_PORT'}: needs CARE_TLS_CERT and CARE_TLS_KEY`);
  }
  const databaseUrl = env.CARE_DATABASE_URL || undefined;
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError('CARE_DATABASE_URL: must start with postgres:// (unset it to use SQLite)');
  }
  const mqttUrl = env.CARE_MQTT_URL || undefined;
  if (mqttUrl && !/^mqtts?:\/\/[^/]+/.test(mqttUrl)) throw new ConfigError('CARE_MQTT_URL: must be an mqtt:// or mqtts:// URL');
  const provisioning = env.CARE_MQTT_PROVISIONING || 'dynsec';
  if (provisioning !== 'dynsec' && provisioning !== 'none')
    throw new ConfigError(`CARE_MQTT_PROVISIONING: "${provisioning}" is not dynsec or none`);
  if (env.CARE_MQTT_PROVISIONING && !mqttUrl) throw new ConfigError('CARE_MQTT_PROVISIONING: set, but CARE_MQTT_URL is not');
  const hookSecret = env.CARE_BROKER_HOOK_SECRET || undefined;
  if (hookSecret && hookSecret.length < 16) throw new ConfigError('CARE_BROKER_HOOK_SECRET: must be at least 16 characters');
  if (provisioning === 'none' && !hookSecret)
    throw new ConfigError('CARE_BROKER_HOOK_SECRET: required with CARE_MQTT_PROVISIONING=none, or nothing would check gateway credentials');
  const redisUrl = env.CARE_REDIS_URL || undefined;
  if (redisUrl) {
    if (!/^rediss?:\/\/[^/]+/.test(redisUrl)) throw new ConfigError('CARE_REDIS_URL: must be a redis:// or rediss:// URL');
    if (mqttUrl) throw new ConfigError('CARE_REDIS_URL: clusters the embedded broker; it cannot be used with CARE_MQTT_URL');
    if (!databaseUrl)
      throw new ConfigError('CARE_REDIS_URL: clustered instances must share state: set CARE_DATABASE_URL (postgres://) too');
  }
  let influx: ServerConfig['influx'] = null;
  if (env.CARE_INFLUX_URL) {
    const url = env.CARE_INFLUX_URL;
    if (!/^https?:\/\/[^/]+/.test(url)) throw new ConfigError(`CARE_INFLUX_URL: "${url}" is not an http:// or https:// URL`);
    if (env.CARE_INFLUX_DATABASE) {
      // Both sets at once is a mistake either way: refuse it rather than guess the version.
      for (const key of ['CARE_INFLUX_TOKEN', 'CARE_INFLUX_ORG', 'CARE_INFLUX_BUCKET']) {
        if (env[key]) throw new ConfigError(`${key}: InfluxDB 2.x setting given with CARE_INFLUX_DATABASE (1.x); set one or the other`);
      }
      if (env.CARE_INFLUX_USERNAME && !env.CARE_INFLUX_PASSWORD)
        throw new ConfigError('CARE_INFLUX_PASSWORD: required with CARE_INFLUX_USERNAME');
      if (env.CARE_INFLUX_PASSWORD && !env.CARE_INFLUX_USERNAME)
        throw new ConfigError('CARE_INFLUX_USERNAME: required with CARE_INFLUX_PASSWORD');
      influx = {
        version: 1,
        url,
        database: env.CARE_INFLUX_DATABASE,
        username: env.CARE_INFLUX_USERNAME,
        password: env.CARE_INFLUX_PASSWORD,
      };
    } else if (env.CARE_INFLUX_TOKEN || env.CARE_INFLUX_ORG || env.CARE_INFLUX_BUCKET) {
      for (const key of ['CARE_INFLUX_TOKEN', 'CARE_INFLUX_ORG', 'CARE_INFLUX_BUCKET']) {
        if (!env[key]) throw new ConfigError(`${key}: required for InfluxDB 2.x/3.x with CARE_INFLUX_URL`);
      }
      for (const key of ['CARE_INFLUX_USERNAME', 'CARE_INFLUX_PASSWORD']) {
        if (env[key]) throw new ConfigError(`${key}: for InfluxDB 1.x only; 2.x/3.x signs in with CARE_INFLUX_TOKEN`);
      }
      influx = {
        version: 2,
        url,
        token: env.CARE_INFLUX_TOKEN as string,
        org: env.CARE_INFLUX_ORG as string,
        bucket: env.CARE_INFLUX_BUCKET as string,
      };
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
    ]) {
      if (env[key]) throw new ConfigError(`${key}: set, but CARE_INFLUX_URL is not`);
    }
  }
  const retention = positive('CARE_TELEMETRY_RETENTION_DAYS', 90);
  const onOff = (key: string, fallback: boolean) => {
    const raw = env[key];
    if (raw === undefined || raw === '') return fallback;
    if (raw !== 'on' && raw !== 'off') throw new ConfigError(`${key}: "${raw}" is not on or off`);
    return raw === 'on';
  };
  const metricsToken = env.CARE_METRICS_TOKEN || null;
  if (metricsToken !== null && (metricsToken.length < 16 || metricsToken.length > 200 || /\s/.test(metricsToken)))
    throw new ConfigError('CARE_METRICS_TOKEN: must be 16-200 characters without spaces');
  const bindHost = env.CARE_BIND_HOST || '0.0.0.0';
  const mapTileUrl = env.CARE_MAP_TILE_URL?.trim() || null;
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
    influx,
    telemetryRetentionDays: retention,
    notifyCapPerContact: positive('CARE_NOTIFY_CAP_PER_CONTACT', 10),
    notifyCapWindowMs: positive('CARE_NOTIFY_CAP_WINDOW_SECONDS', 600) * 1000,
    mqttUrl,
    mqttProvisioning: provisioning,
    brokerHookSecret: hookSecret,
    redisUrl,
    brokerHeartbeatMs: positive('CARE_BROKER_HEARTBEAT_SECONDS', 60) * 1000,
    databaseUrl,
    tls,
    loginRateLimit: positive('CARE_LOGIN_RATE_LIMIT', 10),
    loginAddressLimit: positive('CARE_LOGIN_ADDRESS_LIMIT', 50),
    loginHashConcurrency: positive('CARE_LOGIN_HASH_CONCURRENCY', 2),
    loginHashQueue: positive('CARE_LOGIN_HASH_QUEUE', 32),
    allowedOrigins: origins,
    mqttRatePerSecond: positive('CARE_MQTT_RATE', 1000),
    mqttBurst: positive('CARE_MQTT_BURST', 10_000),
    mqttMaxPacketBytes: atLeast('CARE_MQTT_MAX_PACKET_BYTES', 1024 * 1024, 64 * 1024),
    mqttConnectTimeoutMs: positive('CARE_MQTT_CONNECT_TIMEOUT_SECONDS', 10) * 1000,
    mqttMaxPending: positive('CARE_MQTT_MAX_PENDING', 1000),
    mqttMaxPendingPerAddress: positive('CARE_MQTT_MAX_PENDING_PER_ADDRESS', 100),
    unregisteredAlarmBudget: positive('CARE_UNREGISTERED_ALARM_BUDGET', 20),
    httpPort: port(env, 'CARE_HTTP_PORT', 8080),
    mqttPort: port(env, 'CARE_MQTT_PORT', 1883),
    bindHost,
    exposure: {
      metricsToken,
      metricsWithoutToken: metricsToken === null && LOOPBACK.test(bindHost),
      apiDocs: onOff('CARE_API_DOCS', true),
      sourceMaps: onOff('CARE_SOURCE_MAPS', env.NODE_ENV !== 'production'),
    },
    dataDir: path.resolve(env.CARE_DATA_DIR || './data'),
    adminPassword: pw || undefined,
    tokenTtlMs: ttl * 60_000,
    dashboardDir: path.resolve(import.meta.dirname, '../dashboard/dist'),
    logLevel: level,
  };
}

// Gateway configuration: identity and uplink from the environment, devices and adapters from the
// JSON file named by CARE_GATEWAY_CONFIG (DESIGN.md 3.2, 3.7). Anything invalid stops the gateway
// at start with a message naming the key.
import fs from 'node:fs';
import path from 'node:path';
import Type, { type Static } from 'typebox';
import { Compile } from 'typebox/compile';
import { ID_PATTERN, isTopicSafeId } from '../protocol/index.ts';
import { MODELS } from './adapters/zigbee2mqtt/models.ts';

const DeviceId = Type.String({ pattern: ID_PATTERN });

export const SerialEntry = Type.Object(
  {
    /** A device path (/dev/ttyUSB0) or a serial device server `tcp://host:port` (ser2net, Wi-Fi bridges). */
    path: Type.String({ minLength: 1, maxLength: 256 }),
    baudRate: Type.Optional(Type.Integer({ minimum: 300, maximum: 4_000_000 })),
    protocol: Type.Enum(['seeed-5359', 'seeed-sof', 'ndjson'] as const),
    /** The device this port belongs to (radars); NDJSON lines name their own. */
    device: Type.Optional(DeviceId),
  },
  { additionalProperties: false },
);
export type SerialEntry = Static<typeof SerialEntry>;

export const Zigbee2MqttDevice = Type.Object(
  {
    device: DeviceId,
    model: Type.String({ maxLength: 64 }),
    callActions: Type.Optional(Type.Array(Type.String({ maxLength: 32 }), { maxItems: 16 })),
    lowBatteryPercent: Type.Optional(Type.Number({ minimum: 0, maximum: 100 })),
  },
  { additionalProperties: false },
);

export const GatewayFile = Type.Object(
  {
    serial: Type.Optional(Type.Array(SerialEntry, { maxItems: 64 })),
    zigbee2mqtt: Type.Optional(
      Type.Object(
        {
          url: Type.String(),
          baseTopic: Type.Optional(Type.String({ maxLength: 64 })),
          username: Type.Optional(Type.String()),
          password: Type.Optional(Type.String()),
          devices: Type.Record(Type.String({ maxLength: 128 }), Zigbee2MqttDevice),
        },
        { additionalProperties: false },
      ),
    ),
    heartbeatSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 3600 })),
    telemetry: Type.Optional(
      Type.Object(
        {
          maxBatch: Type.Optional(Type.Integer({ minimum: 1, maximum: 5000 })),
          maxDelayMs: Type.Optional(Type.Integer({ minimum: 10, maximum: 60000 })),
        },
        { additionalProperties: false },
      ),
    ),
    outboxMaxRows: Type.Optional(Type.Integer({ minimum: 100 })),
    /** Local fallback when the uplink is down: docs/gateway-local-fallback.md. */
    local: Type.Optional(
      Type.Object(
        {
          afterSeconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 3600 })),
          httpPort: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535 })),
          httpHost: Type.Optional(Type.String({ maxLength: 64 })),
          output: Type.Optional(
            Type.Object(
              {
                path: Type.String({ minLength: 1, maxLength: 256 }),
                baudRate: Type.Optional(Type.Integer({ minimum: 300, maximum: 4_000_000 })),
                repeatSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 3600 })),
              },
              { additionalProperties: false },
            ),
          ),
        },
        { additionalProperties: false },
      ),
    ),
    /** Edge rules that work without the server. */
    rules: Type.Optional(
      Type.Object(
        {
          nightWindow: Type.Optional(
            Type.Object(
              {
                start: Type.String({ pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$' }),
                end: Type.String({ pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$' }),
              },
              { additionalProperties: false },
            ),
          ),
          timezone: Type.Optional(Type.String({ maxLength: 64 })),
          bedExitReturnMinutes: Type.Optional(Type.Integer({ minimum: 1, maximum: 240 })),
          fallConfirmSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 600 })),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export type GatewayFile = Static<typeof GatewayFile>;
const checkFile = Compile(GatewayFile);

export interface GatewayConfig {
  siteId: string;
  gatewayId: string;
  secret: string;
  uplinkUrl: string;
  outboxDir: string;
  file: GatewayFile;
  logLevel: string;
  /** PEM contents for mqtts: the CA to trust, and a client certificate and key for mTLS. */
  uplinkTls: { ca?: string; cert?: string; key?: string };
}

export const GATEWAY_ENV_HELP = `Environment (defaults in brackets):
  CARE_SITE_ID          site this gateway belongs to (required)
  CARE_GATEWAY_ID       gateway id = MQTT client id = username (required)
  CARE_GATEWAY_SECRET   secret issued when the gateway was registered (required)
  CARE_UPLINK_URL       the server's MQTT broker; several, comma-separated, for a cluster [mqtt://localhost:1883]
  CARE_GATEWAY_CONFIG   JSON file listing serial ports and Zigbee2MQTT devices [none: no devices]
  CARE_OUTBOX_DIR       durable outbox [./data/outbox]
  CARE_UPLINK_CA        PEM file of the CA that signed the server's certificate (mqtts) [system CAs]
  CARE_UPLINK_CERT, CARE_UPLINK_KEY  PEM client certificate and key, when the server asks for mTLS
  CARE_LOG_LEVEL        pino level [info]`;

export class ConfigError extends Error {}

export function loadGatewayConfig(env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const need = (key: string) => {
    const v = env[key];
    if (!v) throw new ConfigError(`${key}: required`);
    return v;
  };
  const siteId = need('CARE_SITE_ID');
  const gatewayId = need('CARE_GATEWAY_ID');
  const secret = need('CARE_GATEWAY_SECRET');
  if (!isTopicSafeId(siteId)) throw new ConfigError(`CARE_SITE_ID: "${siteId}" is not a valid id`);
  if (!isTopicSafeId(gatewayId)) throw new ConfigError(`CARE_GATEWAY_ID: "${gatewayId}" is not a valid id`);
  const uplinkUrl = env.CARE_UPLINK_URL || 'mqtt://localhost:1883';
  for (const u of uplinkUrl.split(',')) {
    if (!/^mqtts?:\/\/[^/]+/.test(u.trim())) throw new ConfigError(`CARE_UPLINK_URL: "${u.trim()}" is not an mqtt:// or mqtts:// URL`);
  }
  let file: GatewayFile = {};
  const configPath = env.CARE_GATEWAY_CONFIG;
  if (configPath) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(fs.readFileSync(configPath, 'utf8'));
    } catch (err) {
      throw new ConfigError(`CARE_GATEWAY_CONFIG: cannot read ${configPath}: ${(err as Error).message}`);
    }
    if (!checkFile.Check(parsed)) {
      const e = [...checkFile.Errors(parsed)].find((x) => x.keyword !== 'boolean') ?? checkFile.Errors(parsed)[0];
      throw new ConfigError(`CARE_GATEWAY_CONFIG ${configPath}: ${e?.instancePath || '/'} ${e?.message ?? 'invalid'}`);
    }
    file = parsed;
    for (const [name, d] of Object.entries(file.zigbee2mqtt?.devices ?? {})) {
      // An unknown model would map nothing: a silent SOS button is worse than a refusal to start.
      if (!MODELS[d.model]) {
        throw new ConfigError(
          `CARE_GATEWAY_CONFIG: /zigbee2mqtt/devices/${name}/model "${d.model}" is not a known model (${Object.keys(MODELS).join(', ')})`,
        );
      }
    }
    const tz = file.rules?.timezone;
    if (tz) {
      try {
        new Intl.DateTimeFormat('en', { timeZone: tz });
      } catch {
        throw new ConfigError(`CARE_GATEWAY_CONFIG: /rules/timezone "${tz}" is not a known time zone`);
      }
    }
    for (const [i, s] of (file.serial ?? []).entries()) {
      if (s.protocol !== 'ndjson' && !s.device)
        throw new ConfigError(`CARE_GATEWAY_CONFIG: /serial/${i}/device is required for ${s.protocol}`);
    }
  }
  const pem = (key: string) => {
    const file = env[key];
    if (!file) return undefined;
    try {
      return fs.readFileSync(file, 'utf8');
    } catch (err) {
      throw new ConfigError(`${key}: cannot read ${file}: ${(err as Error).message}`);
    }
  };
  const uplinkTls = { ca: pem('CARE_UPLINK_CA'), cert: pem('CARE_UPLINK_CERT'), key: pem('CARE_UPLINK_KEY') };
  if (Boolean(uplinkTls.cert) !== Boolean(uplinkTls.key))
    throw new ConfigError('CARE_UPLINK_CERT and CARE_UPLINK_KEY: set both or neither');
  return {
    uplinkTls,
    siteId,
    gatewayId,
    secret,
    uplinkUrl,
    outboxDir: path.resolve(env.CARE_OUTBOX_DIR || './data/outbox'),
    file,
    logLevel: env.CARE_LOG_LEVEL || 'info',
  };
}

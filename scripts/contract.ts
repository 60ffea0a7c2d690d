// `npm run contract`: writes the wire contract a user of this repository reads, generated from the
// code so it cannot drift: docs/contract/openapi.json from the Fastify route schemas (the server is
// started with its default settings on loopback, port 0, and its /docs/json read), and one JSON
// Schema file per MQTT payload and WebSocket message from protocol/schemas.ts.
// test/unit/contract.test.ts fails when the committed files differ from what this generates.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import pino from 'pino';
import type { TSchema } from 'typebox';
import {
  AlarmAckCmd,
  CommittedCmd,
  DeviceEvent,
  DeviceStatus,
  GatewayStatus,
  TelemetryBatch,
  WsAlarm,
  WsDeviceStatus,
  WsSnapshot,
} from '../protocol/schemas.ts';
import { loadServerConfig } from '../server/config.ts';
import { startServer } from '../server/server.ts';

export const CONTRACT_DIR = path.resolve(import.meta.dirname, '../docs/contract');

/** Each payload's schema, under the name of its file in docs/contract/schemas/. */
const PAYLOADS: Record<string, { schema: TSchema; title: string }> = {
  'mqtt-events': { schema: DeviceEvent, title: 'care/v1/{siteId}/{gatewayId}/events (gateway -> server, QoS 1)' },
  'mqtt-telemetry': { schema: TelemetryBatch, title: 'care/v1/{siteId}/{gatewayId}/telemetry (gateway -> server, QoS 0)' },
  'mqtt-status': { schema: GatewayStatus, title: 'care/v1/{siteId}/{gatewayId}/status (gateway -> server, retained; also the will)' },
  'mqtt-status-device': { schema: DeviceStatus, title: 'one device in a status message' },
  'mqtt-cmd-committed': { schema: CommittedCmd, title: 'care/v1/{siteId}/{gatewayId}/cmd: events committed (server -> gateway)' },
  'mqtt-cmd-alarm-ack': { schema: AlarmAckCmd, title: 'care/v1/{siteId}/{gatewayId}/cmd: an alarm acknowledged (server -> gateway)' },
  'ws-snapshot': { schema: WsSnapshot, title: '/ws: the open alarms, first message of a connection' },
  'ws-alarm': { schema: WsAlarm, title: '/ws: an alarm changed' },
  'ws-device-status': { schema: WsDeviceStatus, title: "/ws: a device's status changed" },
};

const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

/** The OpenAPI document of a server started with default settings. */
async function openApi(): Promise<unknown> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'care-contract-'));
  const config = loadServerConfig({
    CARE_HTTP_PORT: '0',
    CARE_MQTT_PORT: '0',
    CARE_WATCH_PORT: 'off',
    CARE_BIND_HOST: '127.0.0.1',
    CARE_DATA_DIR: dataDir,
    CARE_ADMIN_PASSWORD: 'contract-admin-password',
  });
  const server = await startServer(config, { logger: pino({ level: 'silent' }) });
  try {
    const res = await fetch(`http://127.0.0.1:${server.httpPort}/docs/json`);
    if (!res.ok) throw new Error(`/docs/json answered ${res.status}`);
    return await res.json();
  } finally {
    await server.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Every contract file (path under docs/contract -> content). */
export async function generateContract(): Promise<Record<string, string>> {
  const files: Record<string, string> = { 'openapi.json': json(await openApi()) };
  for (const [name, { schema, title }] of Object.entries(PAYLOADS)) {
    files[`schemas/${name}.schema.json`] = json({ $schema: 'https://json-schema.org/draft/2020-12/schema', title, ...schema });
  }
  return files;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const files = await generateContract();
  for (const [name, content] of Object.entries(files)) {
    const file = path.join(CONTRACT_DIR, name);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, content);
    console.log(`wrote ${path.relative(process.cwd(), file)}`);
  }
  process.exit(0);
}

// Test harness: a real server (embedded Aedes on a real port, SQLite in a temp dir, Fastify),
// real gateways and real WebSocket clients, all on loopback with port 0.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import pino from 'pino';
import { Agent, fetch as undiciFetch } from 'undici';
import WebSocket from 'ws';
import { type GatewayConfig, loadGatewayConfig } from '../../gateway/config.ts';
import { type RunningGateway, startGateway } from '../../gateway/gateway.ts';
import type { Alarm, Clock, WsMessage } from '../../protocol/index.ts';
import { loadServerConfig } from '../../server/config.ts';
import { type RunningServer, startServer } from '../../server/server.ts';

export const ADMIN_PASSWORD = 'test-admin-password';
export const quietLogger = () => pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

export function tempDir(prefix = 'care-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export interface TestServer extends RunningServer {
  url: string;
  mqttUrl: string;
  dataDir: string;
  token: string;
  api<T = unknown>(method: string, route: string, body?: unknown, token?: string): Promise<{ status: number; body: T }>;
}

export async function startTestServer(
  dataDir = tempDir(),
  deps: { clock?: Clock; env?: Record<string, string>; https?: { ca: string }; logger?: pino.Logger } = {},
): Promise<TestServer> {
  const config = loadServerConfig({
    CARE_HTTP_PORT: '0',
    CARE_MQTT_PORT: '0',
    CARE_BIND_HOST: '127.0.0.1',
    CARE_DATA_DIR: dataDir,
    CARE_ADMIN_PASSWORD: ADMIN_PASSWORD,
    // Tests log in far more often than a person would; the limit itself is tested with its own server.
    CARE_LOGIN_RATE_LIMIT: '10000',
    CARE_LOGIN_ADDRESS_LIMIT: '10000',
    ...deps.env,
  });
  const server = await startServer(config, { logger: deps.logger ?? quietLogger(), clock: deps.clock });
  const url = `${deps.https ? 'https://localhost' : 'http://127.0.0.1'}:${server.httpPort}`;
  // Node's global fetch cannot take a CA per request; undici's fetch with an Agent can.
  const dispatcher = deps.https ? new Agent({ connect: { ca: deps.https.ca } }) : undefined;
  const api = async <T>(method: string, route: string, body?: unknown, token?: string) => {
    const res = await undiciFetch(`${url}${route}`, {
      dispatcher,
      method,
      headers: {
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
  };
  const login = await api<{ token: string }>('POST', '/api/v1/auth/login', { username: 'admin', password: ADMIN_PASSWORD });
  const token = login.body.token;
  return {
    ...server,
    url,
    mqttUrl: `mqtt://127.0.0.1:${server.mqttPort}`,
    dataDir,
    token,
    api: <T>(method: string, route: string, body?: unknown, t: string = token) => api<T>(method, route, body, t),
  };
}

export interface DemoSite {
  siteId: string;
  gatewayId: string;
  secret: string;
  residentId: string;
}

/** Registers a site, a resident in room 203, a gateway and the given devices for that resident. */
export async function registerSite(
  server: TestServer,
  devices: Array<{ id: string; kind: string }> = [
    { id: 'btn-203', kind: 'call_button' },
    { id: 'radar-203', kind: 'fall_detector' },
    { id: 'bed-203', kind: 'bed_sensor' },
  ],
  opts: { timezone?: string } = {},
): Promise<DemoSite> {
  const site = await server.api<{ id: string }>('POST', '/api/v1/sites', {
    name: 'Test home',
    kind: 'nursing_home',
    timezone: opts.timezone ?? 'Asia/Shanghai',
  });
  const resident = await server.api<{ id: string }>('POST', '/api/v1/residents', {
    siteId: site.body.id,
    name: '王秀英',
    room: '203',
    bed: 'A',
  });
  const gw = await server.api<{ id: string; secret: string }>('POST', '/api/v1/gateways', { siteId: site.body.id, name: 'Floor 2' });
  for (const d of devices) {
    const r = await server.api('POST', '/api/v1/devices', { id: d.id, gatewayId: gw.body.id, kind: d.kind, residentId: resident.body.id });
    if (r.status !== 201) throw new Error(`device ${d.id}: ${JSON.stringify(r.body)}`);
  }
  return { siteId: site.body.id, gatewayId: gw.body.id, secret: gw.body.secret, residentId: resident.body.id };
}

export function gatewayConfigFor(
  server: TestServer,
  site: DemoSite,
  file: object = {},
  outboxDir = tempDir('care-outbox-'),
): GatewayConfig {
  const configPath = path.join(outboxDir, 'gateway.json');
  fs.writeFileSync(configPath, JSON.stringify(file));
  return loadGatewayConfig(gatewayEnvFor(server, site, configPath, outboxDir));
}

/** The environment a gateway of `site` reads its configuration from (in-process or as a child process). */
export function gatewayEnvFor(server: TestServer, site: DemoSite, configPath: string, outboxDir: string): Record<string, string> {
  return {
    CARE_SITE_ID: site.siteId,
    CARE_GATEWAY_ID: site.gatewayId,
    CARE_GATEWAY_SECRET: site.secret,
    CARE_UPLINK_URL: server.mqttUrl,
    CARE_GATEWAY_CONFIG: configPath,
    CARE_OUTBOX_DIR: outboxDir,
  };
}

export async function startTestGateway(server: TestServer, site: DemoSite, file: object = {}): Promise<RunningGateway> {
  const gw = await startGateway(gatewayConfigFor(server, site, file), { logger: quietLogger() });
  await waitFor(() => gw.uplinkConnected(), 'gateway uplink connected');
  return gw;
}

/** A raw MQTT client logged in as the site's gateway, for tests that speak the wire contract. */
export function connectAsGateway(server: { mqttUrl: string }, site: Pick<DemoSite, 'gatewayId' | 'secret'>): Promise<MqttClient> {
  return mqtt.connectAsync(server.mqttUrl, {
    clientId: site.gatewayId,
    username: site.gatewayId,
    password: site.secret,
    reconnectPeriod: 0,
  });
}

/** Polls `check` until it returns a truthy value or the deadline passes. */
export async function waitFor<T>(check: () => T | Promise<T>, what: string, timeoutMs = 10_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A caregiver screen: a real WebSocket client that records every message. */
export class Screen {
  readonly messages: WsMessage[] = [];
  readonly ws: WebSocket;
  readonly opened: Promise<void>;
  closedWith: { code: number } | null = null;

  constructor(server: TestServer, query: string) {
    this.ws = new WebSocket(`ws://127.0.0.1:${server.httpPort}/ws?${query}`);
    this.ws.on('message', (data) => this.messages.push(JSON.parse(String(data)) as WsMessage));
    this.ws.on('close', (code) => {
      this.closedWith = { code };
    });
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('error', reject);
      this.ws.once('unexpected-response', (_req, res) => reject(new Error(`handshake refused: ${res.statusCode}`)));
    });
  }

  static async open(server: TestServer, since?: number, token = server.token): Promise<Screen> {
    const s = new Screen(server, `token=${encodeURIComponent(token)}${since !== undefined ? `&since=${since}` : ''}`);
    await s.opened;
    await waitFor(() => s.messages.length > 0 || since !== undefined, 'first message');
    return s;
  }

  get lastSeq(): number {
    return Math.max(0, ...this.messages.map((m) => m.seq));
  }

  alarmMessages(): Alarm[] {
    return this.messages.flatMap((m) => (m.type === 'alarm' ? [m.alarm] : []));
  }

  async waitForAlarm(pred: (a: Alarm) => boolean, what = 'alarm message'): Promise<Alarm> {
    return waitFor(() => this.alarmMessages().find(pred), what);
  }

  close(): void {
    this.ws.close();
  }
}

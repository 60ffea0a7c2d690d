// What the phases share: the run's settings (quick or full), a site with registered gateways,
// their MQTT connections, call events and background telemetry.
import { performance } from 'node:perf_hooks';
import mqtt, { type MqttClient } from 'mqtt';
import { gatewayTopic } from '../../protocol/index.ts';
import { api, type ServerProc, startServerProcess, waitUntil } from '../lib.ts';

export interface Settings {
  quick: boolean;
  floorMs: number;
  alarmMs: number;
  clusterAlarmMs: number;
  /** Event rates tried in turn; the highest kept with zero loss is reported. */
  ingestRates: number[];
  pointRates: number[];
  stepMs: number;
  gateways: number;
  restMs: number;
}

export function settings(quick: boolean): Settings {
  return quick
    ? {
        quick,
        floorMs: 2500,
        alarmMs: 3000,
        clusterAlarmMs: 1000,
        ingestRates: [2000, 5000, 10000],
        pointRates: [20000, 50000],
        stepMs: 1500,
        gateways: 200,
        restMs: 3000,
      }
    : {
        quick,
        floorMs: 10000,
        alarmMs: 15000,
        clusterAlarmMs: 10000,
        ingestRates: [2000, 5000, 10000, 20000, 30000],
        pointRates: [20000, 50000, 100000],
        stepMs: 4000,
        gateways: Number(process.env.BENCH_GATEWAYS ?? 10000),
        restMs: 10000,
      };
}

export const EVENT_RATE = 1000;
export const TELEMETRY_RATE = Number(process.env.BENCH_TELEMETRY_RATE ?? 20000);
export const SCREENS = 10;
export const ADMIN_PASSWORD = 'bench-admin-password';

export const log = (s: string) => process.stderr.write(`${s}\n`);
export const ms = (t0: number) => Math.round(performance.now() - t0);

/** Runs `fn` over `items` with at most `limit` at once. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < items.length; i = next++) out[i] = await fn(items[i] as T, i);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

export interface Site {
  token: string;
  siteId: string;
  gateways: Array<{ id: string; secret: string; client?: MqttClient }>;
}

export async function login(server: ServerProc): Promise<string> {
  const { token } = await api<{ token: string }>(server.url, 'POST', '/api/v1/auth/login', {
    username: 'admin',
    password: ADMIN_PASSWORD,
  });
  return token;
}

/** A site with `gatewayCount` gateways, registered `concurrency` at a time. */
export async function registerSite(server: ServerProc, gatewayCount: number, concurrency = 1): Promise<Site> {
  const token = await login(server);
  const site = await api<{ id: string }>(
    server.url,
    'POST',
    '/api/v1/sites',
    { name: 'Bench', kind: 'nursing_home', timezone: 'UTC' },
    token,
  );
  const gateways = await mapLimit(
    Array.from({ length: gatewayCount }, (_, i) => i),
    concurrency,
    (i) => api<{ id: string; secret: string }>(server.url, 'POST', '/api/v1/gateways', { siteId: site.id, name: `g${i}` }, token),
  );
  return { token, siteId: site.id, gateways };
}

/**
 * Registers devices (id, the index of its gateway in `site.gateways`, kind) `concurrency` at a time
 * through the REST API, as an installer would: an alarm from a registered device is the path the
 * product is built for (unknown devices take the unregistered-device path and its budget).
 */
export async function registerDevices(
  server: ServerProc,
  site: Site,
  devices: ReadonlyArray<{ id: string; gateway: number; kind: string }>,
  concurrency = 8,
) {
  await mapLimit(devices, concurrency, (d) =>
    api(server.url, 'POST', '/api/v1/devices', { id: d.id, gatewayId: site.gateways[d.gateway]?.id, kind: d.kind }, site.token),
  );
}

/**
 * One presence event from each device, through its gateway, and back when all are stored: devices
 * in a home are heard (heartbeats, presence) long before one calls, so the phase measures calls
 * from devices already online rather than each device's first sighting.
 */
export async function hearDevices(server: ServerProc, site: Site, devices: ReadonlyArray<{ id: string; gateway: number }>) {
  const stored = async () => {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith('care_ingest_events_total{outcome="stored"}'));
    return line ? Number(line.split(' ')[1]) : 0;
  };
  const before = await stored();
  for (const [i, d] of devices.entries()) {
    const gw = site.gateways[d.gateway];
    gw?.client?.publish(gatewayTopic(site.siteId, gw.id, 'events'), event(`w-${i}`, d.id, 'presence'), { qos: 1 });
    if (i % 500 === 499) await new Promise((r) => setTimeout(r, 100));
  }
  if (!(await waitUntil(async () => (await stored()) - before >= devices.length, 60_000))) {
    throw new Error(`only ${(await stored()) - before} of ${devices.length} devices were heard`);
  }
}

export async function connectGateways(server: ServerProc, site: Site, mqttUrl = server.mqttUrl) {
  for (const g of site.gateways) {
    g.client = await mqtt.connectAsync(mqttUrl, {
      clientId: g.id,
      username: g.id,
      password: g.secret,
      reconnectPeriod: 0,
      keepalive: 60,
    });
  }
}

export function disconnectGateways(site: Site) {
  for (const g of site.gateways) g.client?.end(true);
}

export function event(id: string, device: string, type: string) {
  return JSON.stringify({ v: 1, id, seq: 1, ts: new Date().toISOString(), device, type });
}

/** 20,000 points/s (or `rate`) in batches of 100, spread over the gateways, until stopped. */
export function backgroundTelemetry(site: Site, rate = TELEMETRY_RATE) {
  let stop = false;
  let sent = 0;
  const batch = (g: number, n: number) =>
    JSON.stringify({
      v: 1,
      ts: new Date().toISOString(),
      points: Array.from({ length: 100 }, (_, k) => ({
        device: `t-${g}-${k % 10}`,
        metric: 'heart_rate',
        value: 60 + ((n + k) % 30),
        ts: new Date().toISOString(),
      })),
    });
  // Its own loop rather than constantRate, so that stop() ends it (and its 1 ms timer) at once.
  const perSec = rate / 100;
  const start = performance.now();
  let i = 0;
  const tick = () => {
    if (stop) return;
    const due = Math.floor(((performance.now() - start) * perSec) / 1000) + 1;
    for (; i < due; i += 1) {
      const g = i % site.gateways.length;
      const gw = site.gateways[g];
      gw?.client?.publish(gatewayTopic(site.siteId, gw.id, 'telemetry'), batch(g, i), { qos: 1 });
      sent += 100;
    }
    setTimeout(tick, 1);
  };
  tick();
  return {
    get sent() {
      return sent;
    },
    stop() {
      stop = true;
    },
  };
}

/**
 * Server settings every bench server runs with, besides lib.ts's. The benches' devices are not
 * registered (15,000 distinct callers in the alarm phase): the per-gateway budget of unregistered
 * devices with alarms of their own (CARE_UNREGISTERED_ALARM_BUDGET [20]) would fold them into one
 * summary alarm, so like the MQTT rate limit it is set far above what is measured.
 * BENCH_CPU_PROF_PHASE=name with BENCH_CPU_PROF_DIR=dir profiles only that phase's server.
 */
export const SERVER_ENV: Record<string, string> = { CARE_UNREGISTERED_ALARM_BUDGET: '1000000' };

export async function startServer(dataDir: string, env: Record<string, string> = {}, phase?: string): Promise<ServerProc> {
  const profDir = process.env.BENCH_CPU_PROF_DIR;
  const profile = profDir && phase !== undefined && process.env.BENCH_CPU_PROF_PHASE === phase;
  // lib.ts reads BENCH_CPU_PROF when it spawns: set it for this one server only.
  const was = process.env.BENCH_CPU_PROF;
  if (profile) process.env.BENCH_CPU_PROF = profDir;
  try {
    return await startServerProcess(dataDir, { ...SERVER_ENV, ...env });
  } finally {
    if (profile) {
      if (was === undefined) delete process.env.BENCH_CPU_PROF;
      else process.env.BENCH_CPU_PROF = was;
    }
  }
}

// `npm run bench` (and `npm run bench -- --quick`, under 60 s): measures the floor of the stack
// (bare Aedes + mqtt.js QoS 1 to a WebSocket), alarm latency through the whole pipeline under
// background telemetry, an alarm storm, sustained ingest with zero loss, and connected gateways.
// Prints a table and writes bench/results/latest.json.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Aedes } from 'aedes';
import SQLite from 'better-sqlite3';
import mqtt, { type MqttClient } from 'mqtt';
import pg from 'pg';
import WebSocket, { WebSocketServer } from 'ws';
import { gatewayTopic } from '../protocol/index.ts';
import { influxdAvailable, startInfluxd } from '../test/helpers/influx.ts';
import { mosquittoAvailable, startMosquitto } from '../test/helpers/mosquitto.ts';
import { type Postgres, postgresBin, startPostgres } from '../test/helpers/postgres.ts';
import { redisAvailable, startRedis } from '../test/helpers/redis.ts';
import { deliveryRate, outboxAcceptRate, parseRate } from './gateway.ts';
import { api, constantRate, type Histogram, histogram, metric, root, type ServerProc, startServerProcess, waitUntil } from './lib.ts';

const { values } = parseArgs({ options: { quick: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } });
if (values.help) {
  console.log('Usage: npm run bench [-- --quick]\n\nWrites bench/results/latest.json. --quick finishes within 60 s.');
  process.exit(0);
}
const quick = Boolean(values.quick);
const P = quick
  ? {
      floorMs: 2500,
      alarmMs: 3000,
      clusterAlarmMs: 1000,
      ingestRates: [2000, 5000, 10000],
      pointRates: [20000, 50000],
      stepMs: 1500,
      gateways: 200,
    }
  : {
      floorMs: 10000,
      alarmMs: 15000,
      clusterAlarmMs: 10000,
      ingestRates: [2000, 5000, 10000, 20000],
      pointRates: [20000, 50000, 100000],
      stepMs: 4000,
      gateways: 2000,
    };
const EVENT_RATE = 1000;
const TELEMETRY_RATE = Number(process.env.BENCH_TELEMETRY_RATE ?? 20000);
const SCREENS = 10;
/** Telemetry behind the cluster runs, which store it in PostgreSQL beside two instances. */
const CLUSTER_TELEMETRY_RATE = 2000;
/**
 * New alarms a second in the cluster runs. At 1,000/s, PostgreSQL on the same two cores as both
 * instances and the generator is the bottleneck (p50 over 500 ms on A's own screens too); 200/s,
 * itself a storm for a city, shows what the bus adds.
 */
const CLUSTER_EVENT_RATE = Number(process.env.BENCH_CLUSTER_EVENT_RATE ?? 200);
const log = (s: string) => process.stderr.write(`${s}\n`);

async function floor() {
  log('floor: bare Aedes + mqtt.js QoS 1 -> WebSocket');
  const broker = await Aedes.createBroker();
  const mqttServer = net.createServer(broker.handle);
  await new Promise<void>((r) => mqttServer.listen(0, '127.0.0.1', () => r()));
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise((r) => wss.once('listening', r));
  await new Promise<void>((r) =>
    broker.subscribe(
      'bench/#',
      (packet, cb) => {
        for (const c of wss.clients) c.send(packet.payload);
        cb();
      },
      r,
    ),
  );
  const sentAt = new Map<number, number>();
  const h = histogram();
  const ws = new WebSocket(`ws://127.0.0.1:${(wss.address() as net.AddressInfo).port}`);
  await new Promise((r) => ws.once('open', r));
  ws.on('message', (d) => {
    const i = Number(String(d));
    const t = sentAt.get(i);
    if (t !== undefined) h.record(performance.now() - t);
  });
  const pub = await mqtt.connectAsync(`mqtt://127.0.0.1:${(mqttServer.address() as net.AddressInfo).port}`);
  await constantRate(EVENT_RATE, P.floorMs, (i, at) => {
    sentAt.set(i, at);
    pub.publish('bench/x', String(i), { qos: 1 });
  });
  await waitUntil(() => h.count >= sentAt.size, 5000);
  await pub.endAsync();
  ws.close();
  wss.close();
  mqttServer.close();
  await new Promise<void>((r) => broker.close(() => r()));
  return h.summary();
}

interface Site {
  token: string;
  siteId: string;
  gateways: Array<{ id: string; secret: string; client?: MqttClient }>;
}

async function registerSite(server: ServerProc, gatewayCount: number): Promise<Site> {
  const { token } = await api<{ token: string }>(server.url, 'POST', '/api/v1/auth/login', {
    username: 'admin',
    password: 'bench-admin-password',
  });
  const site = await api<{ id: string }>(
    server.url,
    'POST',
    '/api/v1/sites',
    { name: 'Bench', kind: 'nursing_home', timezone: 'UTC' },
    token,
  );
  const gateways = [];
  for (let i = 0; i < gatewayCount; i += 1) {
    gateways.push(
      await api<{ id: string; secret: string }>(server.url, 'POST', '/api/v1/gateways', { siteId: site.id, name: `g${i}` }, token),
    );
  }
  return { token, siteId: site.id, gateways };
}

async function connectGateways(server: ServerProc, site: Site, mqttUrl = server.mqttUrl) {
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

function event(id: string, device: string, type: string) {
  return JSON.stringify({ v: 1, id, seq: 1, ts: new Date().toISOString(), device, type });
}

/** 20,000 points/s (or `rate`) in batches of 100, spread over the gateways, until stopped. */
function backgroundTelemetry(site: Site, rate = TELEMETRY_RATE) {
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
  const done = constantRate(rate / 100, 3_600_000, (i) => {
    if (stop) return;
    const g = i % site.gateways.length;
    const gw = site.gateways[g];
    gw?.client?.publish(gatewayTopic(site.siteId, gw.id, 'telemetry'), batch(g, i), { qos: 1 });
    sent += 100;
  });
  return {
    get sent() {
      return sent;
    },
    stop() {
      stop = true;
      void done;
    },
  };
}

/**
 * Gateway publish to alarm on every screen. `screensOn` may list other instances of a cluster
 * (screens are spread over them in turn): their alarms also cross the instances' bus (Redis or
 * PostgreSQL), and `byInstance` gives each instance's own figures.
 */
async function alarmPipeline(
  server: ServerProc,
  site: Site,
  {
    withStorm = true,
    screensOn = [server],
    telemetryRate = TELEMETRY_RATE,
    durationMs = P.alarmMs,
    eventRate = EVENT_RATE,
  }: { withStorm?: boolean; screensOn?: ServerProc[]; telemetryRate?: number; durationMs?: number; eventRate?: number } = {},
) {
  log(`alarm latency: ${eventRate} call events/s to ${SCREENS} screens with ${telemetryRate} telemetry points/s behind`);
  const sentAt = new Map<string, number>();
  const h = histogram();
  const perInstance = screensOn.map(() => histogram());
  const delivered = new Map<string, number>();
  const screens: WebSocket[] = [];
  for (let s = 0; s < SCREENS; s += 1) {
    const on = screensOn[s % screensOn.length] as ServerProc;
    const ownHistogram = perInstance[s % screensOn.length] as Histogram;
    const ws = new WebSocket(`${on.url.replace('http', 'ws')}/ws?token=${site.token}`);
    await new Promise((r) => ws.once('open', r));
    ws.on('message', (d) => {
      const m = JSON.parse(String(d)) as { type: string; alarm?: { deviceId: string; count: number } };
      if (m.type !== 'alarm' || !m.alarm || m.alarm.count !== 1) return;
      const t = sentAt.get(m.alarm.deviceId);
      if (t === undefined) return;
      h.record(performance.now() - t);
      ownHistogram.record(performance.now() - t);
      delivered.set(m.alarm.deviceId, (delivered.get(m.alarm.deviceId) ?? 0) + 1);
    });
    screens.push(ws);
  }
  const bg = backgroundTelemetry(site, telemetryRate);
  await new Promise((r) => setTimeout(r, 500));
  const sent = await constantRate(eventRate, durationMs, (i, at) => {
    const gw = site.gateways[i % site.gateways.length];
    const device = `c-${i}`;
    sentAt.set(device, at);
    gw?.client?.publish(gatewayTopic(site.siteId, gw.id, 'events'), event(`a-${i}`, device, 'call'), { qos: 1 });
  });
  await waitUntil(() => [...delivered.values()].filter((n) => n === SCREENS).length >= sent, 15_000);
  const latency = {
    ...h.summary(),
    delivered: [...delivered.values()].filter((n) => n === SCREENS).length,
    sent,
    byInstance: perInstance.map((x) => x.summary()),
  };
  const loopP99 = await metric(server.url, 'nodejs_eventloop_lag_p99_seconds');

  if (!withStorm) {
    bg.stop();
    for (const ws of screens) ws.close();
    return { latency, storm: null, eventLoopP99Ms: loopP99 === null ? null : Math.round(loopP99 * 100_000) / 100 };
  }
  log('storm: 1,000 falls at once on top of the telemetry');
  const storm = histogram();
  const stormSent = new Map<string, number>();
  const stormDelivered = new Set<string>();
  for (const ws of screens) {
    ws.on('message', (d) => {
      const m = JSON.parse(String(d)) as { type: string; alarm?: { deviceId: string; count: number } };
      const t = m.alarm && stormSent.get(m.alarm.deviceId);
      if (m.type === 'alarm' && m.alarm && t !== undefined && m.alarm.count === 1) {
        storm.record(performance.now() - t);
        stormDelivered.add(`${m.alarm.deviceId}|${screens.indexOf(ws)}`);
      }
    });
  }
  const t0 = performance.now();
  for (let i = 0; i < 1000; i += 1) {
    const gw = site.gateways[i % site.gateways.length];
    const device = `s-${i}`;
    stormSent.set(device, t0);
    gw?.client?.publish(gatewayTopic(site.siteId, gw.id, 'events'), event(`s-${i}`, device, 'fall'), { qos: 1 });
  }
  await waitUntil(() => stormDelivered.size >= 1000 * SCREENS, 20_000);
  bg.stop();
  for (const ws of screens) ws.close();
  return {
    latency,
    storm: { ...storm.summary(), delivered: stormDelivered.size / SCREENS, sent: 1000 },
    eventLoopP99Ms: loopP99 === null ? null : Math.round(loopP99 * 100_000) / 100,
  };
}

function counter(dataDir: string) {
  const db = new SQLite(path.join(dataDir, 'care.db'), { readonly: true, fileMustExist: true });
  const events = db.prepare("SELECT count(*) AS n FROM events WHERE device_id LIKE 'i-%'");
  const points = db.prepare('SELECT count(*) AS n FROM telemetry');
  return {
    events: () => (events.get() as { n: number }).n,
    points: () => (points.get() as { n: number }).n,
    close: () => db.close(),
  };
}

async function ingest(server: ServerProc, site: Site) {
  const count = counter(server.dataDir);
  let eventsPerSec = 0;
  let lost = 0;
  let offset = 0;
  for (const rate of P.ingestRates) {
    log(`ingest: ${rate} events/s for ${P.stepMs / 1000} s`);
    const before = count.events();
    const sent = await constantRate(rate, P.stepMs, (i) => {
      const gw = site.gateways[i % site.gateways.length];
      gw?.client?.publish(gatewayTopic(site.siteId, gw.id, 'events'), event(`i-${offset + i}`, `i-${(offset + i) % 500}`, 'presence'), {
        qos: 1,
      });
    });
    offset += sent;
    // Sustained means it keeps up: everything stored within a second of the last send.
    const kept = await waitUntil(() => count.events() - before >= sent, 1000);
    const stored = count.events() - before;
    if (!kept) {
      await waitUntil(() => count.events() - before >= sent, 15_000);
      lost = sent - (count.events() - before);
      log(`  fell behind: ${stored}/${sent} within 1 s`);
      break;
    }
    eventsPerSec = rate;
  }
  let pointsPerSec = 0;
  for (const rate of P.pointRates) {
    log(`ingest: ${rate} telemetry points/s for ${P.stepMs / 1000} s`);
    const before = count.points();
    const batches = rate / 500;
    const sent = await constantRate(batches, P.stepMs, (i) => {
      const gw = site.gateways[i % site.gateways.length];
      const ts = new Date().toISOString();
      const points = Array.from({ length: 500 }, (_, k) => ({ device: `p-${k % 50}`, metric: 'spo2', value: 95, ts }));
      gw?.client?.publish(gatewayTopic(site.siteId, gw.id, 'telemetry'), JSON.stringify({ v: 1, ts, points }), { qos: 1 });
    });
    const kept = await waitUntil(() => count.points() - before >= sent * 500, 1500);
    if (!kept) {
      await waitUntil(() => count.points() - before >= sent * 500, 15_000);
      log(`  fell behind at ${rate} points/s`);
      break;
    }
    pointsPerSec = rate;
  }
  count.close();
  return { eventsPerSec, telemetryPointsPerSec: pointsPerSec, lost };
}

async function gatewaysPhase() {
  log(`gateways: ${P.gateways} authenticated gateways with heartbeats`);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'care-bench-gw-'));
  const server = await startServerProcess(dataDir);
  try {
    const site = await registerSite(server, P.gateways);
    await new Promise((r) => setTimeout(r, 1000));
    const before = server.rssMb();
    let connected = 0;
    const clients: MqttClient[] = [];
    for (const g of site.gateways) {
      const c = await mqtt.connectAsync(server.mqttUrl, {
        clientId: g.id,
        username: g.id,
        password: g.secret,
        reconnectPeriod: 0,
        keepalive: 60,
      });
      await c.subscribeAsync(gatewayTopic(site.siteId, g.id, 'cmd'), { qos: 1 });
      c.publish(gatewayTopic(site.siteId, g.id, 'status'), JSON.stringify({ v: 1, state: 'online', ts: new Date().toISOString() }), {
        qos: 1,
        retain: true,
      });
      clients.push(c);
      connected += 1;
    }
    await new Promise((r) => setTimeout(r, 2000));
    const after = server.rssMb();
    for (const c of clients) c.end(true);
    return { connected, rssMbPer1000: Math.round(((after - before) / connected) * 1000 * 10) / 10 };
  } finally {
    await server.stop();
  }
}

/** Telemetry into a real InfluxDB 1.x, and a 24 h chart query served from it. */
async function influxPhase() {
  if (!influxdAvailable()) return null;
  log('influx: telemetry points/s into InfluxDB 1.x');
  const influx = await startInfluxd();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'care-bench-influx-'));
  const server = await startServerProcess(dataDir, { CARE_INFLUX_URL: influx.url, CARE_INFLUX_DATABASE: 'care' });
  const count = async (measurement: string) => {
    const r = await fetch(`${influx.url}/query?db=care&q=${encodeURIComponent(`SELECT count("value") FROM "${measurement}"`)}`);
    const body = (await r.json()) as { results: Array<{ series?: Array<{ values: Array<[string, number]> }> }> };
    return body.results[0]?.series?.[0]?.values[0]?.[1] ?? 0;
  };
  try {
    const site = await registerSite(server, 4);
    await connectGateways(server, site);
    let best = 0;
    let offset = 0;
    const T0 = Date.now() - 86_400_000;
    for (const rate of quick ? [5000, 10000] : [5000, 10000, 20000, 40000]) {
      const before = await count('spo2');
      const sent = await constantRate(rate / 500, P.stepMs, (i) => {
        const gw = site.gateways[i % site.gateways.length];
        // Distinct timestamps per device (InfluxDB keeps one point per series and time).
        const points = Array.from({ length: 500 }, (_, k) => ({
          device: `p-${k % 50}`,
          metric: 'spo2',
          value: 95,
          ts: new Date(T0 + (offset + i) * 10 + Math.floor(k / 50)).toISOString(),
        }));
        gw?.client?.publish(gatewayTopic(site.siteId, gw.id, 'telemetry'), JSON.stringify({ v: 1, ts: new Date().toISOString(), points }), {
          qos: 1,
        });
      });
      offset += sent;
      const ok = await waitUntil(async () => (await count('spo2')) - before >= sent * 500 * 0.999, 3000);
      if (!ok) break;
      best = rate;
    }
    // 24 h of 1 Hz heart rate for one resident, written straight to InfluxDB, then charted.
    const { token } = await api<{ token: string }>(server.url, 'POST', '/api/v1/auth/login', {
      username: 'admin',
      password: 'bench-admin-password',
    });
    const resident = await api<{ id: string }>(
      server.url,
      'POST',
      '/api/v1/residents',
      { siteId: site.siteId, name: 'R', room: '1' },
      token,
    );
    const now = Date.now();
    for (let chunk = 0; chunk < 86_400; chunk += 10_000) {
      const lines = [];
      for (let s = chunk; s < Math.min(chunk + 10_000, 86_400); s += 1)
        lines.push(`heart_rate,device=hr-1,resident=${resident.id},site=${site.siteId} value=${60 + (s % 20)} ${now - s * 1000}`);
      await fetch(`${influx.url}/write?db=care&precision=ms`, { method: 'POST', body: lines.join('\n') });
    }
    const chartMs = await timeChart(server.url, token, resident.id);
    return { telemetryPointsPerSec: best, chartMs };
  } finally {
    await server.stop();
    await influx.stop();
  }
}

async function timeChart(url: string, token: string, residentId: string): Promise<number> {
  const from = new Date(Date.now() - 86_400_000).toISOString();
  const route = `/api/v1/residents/${residentId}/telemetry?metric=heart_rate&from=${from}&to=${new Date().toISOString()}`;
  await api(url, 'GET', route, undefined, token); // warm
  const times: number[] = [];
  for (let i = 0; i < 5; i += 1) {
    const t = performance.now();
    await api(url, 'GET', route, undefined, token);
    times.push(performance.now() - t);
  }
  return Math.round((times.sort((a, b) => a - b)[2] ?? 0) * 10) / 10;
}

/** A 24 h chart at 1 Hz for one resident from SQLite. */
async function chartPhase() {
  log('chart: 24 h of 1 Hz data from SQLite');
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'care-bench-chart-'));
  const server = await startServerProcess(dataDir);
  try {
    const { token } = await api<{ token: string }>(server.url, 'POST', '/api/v1/auth/login', {
      username: 'admin',
      password: 'bench-admin-password',
    });
    const site = await api<{ id: string }>(server.url, 'POST', '/api/v1/sites', { name: 'C', kind: 'nursing_home' }, token);
    const resident = await api<{ id: string }>(server.url, 'POST', '/api/v1/residents', { siteId: site.id, name: 'R', room: '1' }, token);
    const db = new SQLite(path.join(dataDir, 'care.db'));
    const insert = db.prepare('INSERT INTO telemetry (site_id, device_id, resident_id, metric, value, ts) VALUES (?, ?, ?, ?, ?, ?)');
    const now = Date.now();
    db.transaction(() => {
      for (let s = 0; s < 86_400; s += 1)
        insert.run(site.id, 'hr-1', resident.id, 'heart_rate', 60 + (s % 20), new Date(now - s * 1000).toISOString());
    })();
    db.close();
    return { sqliteMs: await timeChart(server.url, token, resident.id) };
  } finally {
    await server.stop();
  }
}

/** The same alarm latency run with Debian's Mosquitto as an external broker. */
async function mosquittoPhase() {
  if (!mosquittoAvailable()) return null;
  log('mosquitto: alarm latency through an external Mosquitto broker');
  const broker = await startMosquitto();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'care-bench-mosq-'));
  const server = await startServerProcess(dataDir, { CARE_MQTT_URL: broker.adminUrl });
  try {
    const site = await registerSite(server, 10);
    await connectGateways(server, site, `mqtt://127.0.0.1:${broker.port}`);
    const r = await alarmPipeline(server, site, { withStorm: false });
    for (const g of site.gateways) g.client?.end(true);
    return {
      p50Ms: r.latency.p50Ms,
      p99Ms: r.latency.p99Ms,
      p999Ms: r.latency.p999Ms,
      delivered: r.latency.delivered,
      sent: r.latency.sent,
    };
  } finally {
    await server.stop();
    await broker.stop();
  }
}

/**
 * Two instances sharing PostgreSQL: gateways on A, screens on A and on B, so half the screens get
 * each alarm across the bus: Redis (clustered embedded broker) or PostgreSQL LISTEN/NOTIFY.
 * Telemetry goes to PostgreSQL here, so the load behind is lighter than on one SQLite instance.
 */
async function clusterPhase(kind: 'redis' | 'postgres', pgServer: Postgres | null) {
  if (!pgServer || (kind === 'redis' && !redisAvailable())) return null;
  log(`cluster (${kind}): gateways on instance A, screens on A and on B`);
  // A database of its own on the shared PostgreSQL server.
  const admin = new pg.Client({ connectionString: pgServer.url });
  await admin.connect();
  await admin.query(`CREATE DATABASE bench_${kind}`);
  await admin.end();
  const redis = kind === 'redis' ? await startRedis() : null;
  const dbUrl = pgServer.url.replace(/\/care$/, `/bench_${kind}`);
  const env: Record<string, string> = { CARE_DATABASE_URL: dbUrl, ...(redis ? { CARE_REDIS_URL: redis.url } : {}) };
  const a = await startServerProcess(fs.mkdtempSync(path.join(os.tmpdir(), 'care-bench-a-')), env);
  const b = await startServerProcess(fs.mkdtempSync(path.join(os.tmpdir(), 'care-bench-b-')), env);
  try {
    const site = await registerSite(a, 10);
    await connectGateways(a, site);
    // Half the screens on A, where the gateways are, half on B: the difference is the bus.
    const r = await alarmPipeline(a, site, {
      withStorm: false,
      screensOn: [a, b],
      telemetryRate: CLUSTER_TELEMETRY_RATE,
      durationMs: P.clusterAlarmMs,
      eventRate: CLUSTER_EVENT_RATE,
    });
    for (const g of site.gateways) g.client?.end(true);
    const [onA, onB] = r.latency.byInstance;
    return {
      sameInstance: { p50Ms: onA?.p50Ms, p99Ms: onA?.p99Ms, maxMs: onA?.maxMs },
      otherInstance: { p50Ms: onB?.p50Ms, p99Ms: onB?.p99Ms, maxMs: onB?.maxMs },
      delivered: r.latency.delivered,
      sent: r.latency.sent,
      eventsPerSec: CLUSTER_EVENT_RATE,
      telemetryPointsPerSec: CLUSTER_TELEMETRY_RATE,
    };
  } finally {
    await a.stop();
    await b.stop();
    await redis?.stop();
  }
}

async function main() {
  const started = Date.now();
  const floorResult = await floor();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'care-bench-'));
  const server = await startServerProcess(dataDir);
  let pipeline: Awaited<ReturnType<typeof alarmPipeline>>;
  let ingestResult: Awaited<ReturnType<typeof ingest>>;
  try {
    const site = await registerSite(server, 10);
    await connectGateways(server, site);
    pipeline = await alarmPipeline(server, site);
    ingestResult = await ingest(server, site);
    for (const g of site.gateways) g.client?.end(true);
  } finally {
    await server.stop();
  }
  log('gateway: outbox accept rate, delivery rate, radar frame parse rate');
  const gatewayFigures = {
    outboxAcceptsPerSec: outboxAcceptRate(quick ? 1000 : 5000),
    radarFramesParsedPerSec: await parseRate(quick ? 100_000 : 1_000_000),
    deliveredPerSec: await (async () => {
      const s = await startServerProcess(fs.mkdtempSync(path.join(os.tmpdir(), 'care-bench-deliver-')));
      try {
        return await deliveryRate(s, quick ? 1000 : 10_000);
      } finally {
        await s.stop();
      }
    })(),
  };
  const gw = await gatewaysPhase();
  const influx = await influxPhase();
  const chart = await chartPhase();
  const mosquitto = await mosquittoPhase();
  const pgServer = postgresBin() === null ? null : await startPostgres();
  const cluster = { redis: await clusterPhase('redis', pgServer), postgres: await clusterPhase('postgres', pgServer) };
  pgServer?.stop();
  const results = {
    when: new Date().toISOString(),
    mode: quick ? 'quick' : 'full',
    machine: { cpus: os.cpus().length, node: process.version },
    floor: {
      p50Ms: floorResult.p50Ms,
      p99Ms: floorResult.p99Ms,
      p999Ms: floorResult.p999Ms,
      maxMs: floorResult.maxMs,
      ratePerSec: EVENT_RATE,
    },
    alarmLatency: {
      p50Ms: pipeline.latency.p50Ms,
      p99Ms: pipeline.latency.p99Ms,
      p999Ms: pipeline.latency.p999Ms,
      maxMs: pipeline.latency.maxMs,
      eventsPerSec: EVENT_RATE,
      telemetryPointsPerSec: TELEMETRY_RATE,
      screens: SCREENS,
      sent: pipeline.latency.sent,
      deliveredToAllScreens: pipeline.latency.delivered,
      p99OverFloorP99: Math.round((pipeline.latency.p99Ms / floorResult.p99Ms) * 10) / 10,
      serverEventLoopP99Ms: pipeline.eventLoopP99Ms,
    },
    storm: pipeline.storm,
    ingest: ingestResult,
    gateways: gw,
    gateway: gatewayFigures,
    influx,
    chartQuery24hMs: chart,
    mosquitto,
    cluster,
    durationSec: Math.round((Date.now() - started) / 1000),
  };
  fs.mkdirSync(path.join(root, 'bench/results'), { recursive: true });
  fs.writeFileSync(path.join(root, 'bench/results/latest.json'), `${JSON.stringify(results, null, 2)}\n`);
  const rows: Array<[string, string]> = [
    ['floor p50 / p99', `${results.floor.p50Ms} / ${results.floor.p99Ms} ms`],
    [
      'alarm p50 / p99 / p99.9 / max',
      `${results.alarmLatency.p50Ms} / ${results.alarmLatency.p99Ms} / ${results.alarmLatency.p999Ms} / ${results.alarmLatency.maxMs} ms`,
    ],
    ['alarm p99 / floor p99', `${results.alarmLatency.p99OverFloorP99}x (target 3x)`],
    ['alarms delivered to all screens', `${results.alarmLatency.deliveredToAllScreens} / ${results.alarmLatency.sent}`],
    ['server event-loop p99', `${results.alarmLatency.serverEventLoopP99Ms} ms`],
    ['storm of 1,000: delivered, p99', `${results.storm?.delivered} / 1000, ${results.storm?.p99Ms} ms (target 250 ms)`],
    ['ingest events/s (zero loss)', `${results.ingest.eventsPerSec} (lost ${results.ingest.lost})`],
    ['ingest telemetry points/s', `${results.ingest.telemetryPointsPerSec}`],
    ['gateways connected', `${results.gateways.connected}, ${results.gateways.rssMbPer1000} MB RSS per 1,000`],
    [
      'one gateway: fsynced accepts/s, delivered+confirmed/s, radar frames parsed/s',
      `${gatewayFigures.outboxAcceptsPerSec} / ${gatewayFigures.deliveredPerSec} / ${gatewayFigures.radarFramesParsedPerSec}`,
    ],
    ['InfluxDB 1.x points/s (zero loss)', influx ? `${influx.telemetryPointsPerSec}` : 'influxd not installed'],
    ['chart, 24 h at 1 Hz (SQLite / InfluxDB)', `${chart.sqliteMs} / ${influx?.chartMs ?? '-'} ms`],
    [
      'alarm p50 / p99 via Mosquitto',
      mosquitto
        ? `${mosquitto.p50Ms} / ${mosquitto.p99Ms} ms (embedded: ${results.alarmLatency.p50Ms} / ${results.alarmLatency.p99Ms})`
        : 'mosquitto not installed',
    ],
    ...(['redis', 'postgres'] as const).map((k): [string, string] => {
      const c = cluster[k];
      return [
        `cluster (${k === 'redis' ? 'Redis' : 'LISTEN/NOTIFY'}): alarm p50 / p99 on A, on B`,
        c
          ? `${c.sameInstance.p50Ms} / ${c.sameInstance.p99Ms} ms, ${c.otherInstance.p50Ms} / ${c.otherInstance.p99Ms} ms; ${c.delivered} / ${c.sent} delivered`
          : `${k} not installed`,
      ];
    }),
    ['duration', `${results.durationSec} s`],
  ];
  console.log(`\nBenchmark (${results.mode}) on ${results.machine.cpus} cores, ${results.machine.node}`);
  for (const [k, v] of rows) console.log(`  ${k.padEnd(34)} ${v}`);
  console.log('\nWrote bench/results/latest.json');
  process.exit(0);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});

// Telemetry has its own lane (issue 13): a flood of readings from one gateway does not delay a
// call from another, and a telemetry worker that dies is restarted while alarms go on. A real
// server, broker and screen on loopback; the server runs in this thread, so the event-loop delay
// measured here is the server's own.
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import SQLite from 'better-sqlite3';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gatewayTopic } from '../../protocol/index.ts';
import { TELEMETRY_FILE } from '../../server/storage/db.ts';
import { FakeClock } from '../helpers/fake-clock.ts';
import { connectAsGateway, type DemoSite, registerSite, Screen, startTestServer, type TestServer, waitFor } from '../helpers/harness.ts';

let server: TestServer;
let site: DemoSite;
let caller: MqttClient;
let flooder: MqttClient;
let floodGateway: { id: string; secret: string };
let screen: Screen;
/** When each device's alarm with each count first reached the screen (performance.now()), by `device#count`. */
const arrivals = new Map<string, number>();

/** Points stored for the test resident's device, read through the chart API. */
async function chartPoints(): Promise<number> {
  const from = new Date(Date.now() - 3600_000).toISOString();
  const to = new Date(Date.now() + 3600_000).toISOString();
  const r = await server.api<{ points: unknown[] }>(
    'GET',
    `/api/v1/residents/${site.residentId}/telemetry?metric=spo2&from=${from}&to=${to}`,
  );
  return r.body.points.length;
}

/** The test process's (main thread's) priority before the server started its worker. */
let mainNice = 0;
beforeAll(async () => {
  mainNice = os.getPriority();
  server = await startTestServer();
  site = await registerSite(server);
  const gw = await server.api<{ id: string; secret: string }>('POST', '/api/v1/gateways', { siteId: site.siteId, name: 'Floor 3' });
  floodGateway = gw.body;
  caller = await connectAsGateway(server, site);
  flooder = await connectAsGateway(server, { gatewayId: floodGateway.id, secret: floodGateway.secret });
  screen = await Screen.open(server);
  screen.ws.on('message', (data) => {
    const m = JSON.parse(String(data)) as { type: string; alarm?: { deviceId: string | null; count: number } };
    const key = m.type === 'alarm' && m.alarm ? `${m.alarm.deviceId}#${m.alarm.count}` : null;
    if (key && !arrivals.has(key)) arrivals.set(key, performance.now());
  });
});
afterAll(async () => {
  screen?.close();
  await caller?.endAsync();
  await flooder?.endAsync();
  await server?.stop();
});

describe('telemetry lane', () => {
  it('a flood of 100,000 readings/s from one gateway, more than the store takes, does not delay a call from another', async () => {
    // Make sure the telemetry worker is up before the measurement starts.
    await waitFor(() => server.telemetry.stats().running, 'telemetry worker running', 30_000);
    const ts = new Date().toISOString();
    // 500 readings a message, 200 messages a second, from devices unknown to the registry (stored all
    // the same). The store cannot keep up: the backlog must wait, or be shed, never the call.
    const payload = JSON.stringify({
      v: 1,
      ts,
      points: Array.from({ length: 500 }, (_, k) => ({ device: `flood-${k % 10}`, metric: 'heart_rate', value: 60 + (k % 30), ts })),
    });
    const floodTopic = gatewayTopic(site.siteId, floodGateway.id, 'telemetry');
    const SECONDS = 8;
    const PER_SECOND = 200;
    const loop = monitorEventLoopDelay({ resolution: 1 });
    let sentMessages = 0;
    const start = performance.now();
    const flood = setInterval(() => {
      const due = Math.min(SECONDS * PER_SECOND, Math.floor(((performance.now() - start) * PER_SECOND) / 1000));
      for (; sentMessages < due; sentMessages += 1) flooder.publish(floodTopic, payload, { qos: 1 });
    }, 5);
    await new Promise((r) => setTimeout(r, 1000));
    loop.enable();
    const sentAt = new Map<string, number>();
    // Presses of one call button, a quarter second apart: the first raises the alarm, each next one
    // raises its count, and every change reaches the screen.
    for (let i = 0; i < 24; i += 1) {
      sentAt.set(`btn-203#${i + 1}`, performance.now());
      caller.publish(
        gatewayTopic(site.siteId, site.gatewayId, 'events'),
        JSON.stringify({ v: 1, id: `flood-call-${i}`, seq: i + 1, ts: new Date().toISOString(), device: 'btn-203', type: 'call' }),
        { qos: 1 },
      );
      await new Promise((r) => setTimeout(r, 250));
    }
    const latencies = await waitFor(
      () => ([...sentAt.keys()].every((d) => arrivals.has(d)) ? [...sentAt].map(([d, at]) => (arrivals.get(d) as number) - at) : null),
      'every call on the screen',
      30_000,
    );
    loop.disable();
    clearInterval(flood);
    const sorted = latencies.sort((a, b) => a - b);
    const p50 = sorted[Math.floor(sorted.length / 2)] as number;
    const max = sorted[sorted.length - 1] as number;
    const loopP99 = loop.percentile(99) / 1e6;
    const loopMax = loop.max / 1e6;
    console.log(
      JSON.stringify({
        callP50Ms: Math.round(p50),
        callMaxMs: Math.round(max),
        loopP99Ms: Math.round(loopP99),
        loopMaxMs: Math.round(loopMax),
        sentMessages,
      }),
    );
    // Generous for a shared 2-core machine (measured 761 ms at a load average of 17). With telemetry
    // decoded and stored on this thread, the calls did not reach the screen within 30 s.
    expect(max).toBeLessThan(2000);
    // The backlog drains (stored, or the oldest shed and counted).
    await waitFor(() => server.telemetry.stats().queued === 0, 'telemetry queue drained', 60_000);
  }, 120_000);

  it('a telemetry worker that dies is restarted; a fall meanwhile still reaches the screen, and readings are stored again', async () => {
    const reading = (value: number) =>
      JSON.stringify({
        v: 1,
        ts: new Date().toISOString(),
        points: [{ device: 'radar-203', metric: 'spo2', value, ts: new Date().toISOString() }],
      });
    const topic = gatewayTopic(site.siteId, site.gatewayId, 'telemetry');
    await caller.publishAsync(topic, reading(97), { qos: 1 });
    await waitFor(async () => (await chartPoints()) >= 1, 'reading stored', 30_000);
    const restartsBefore = server.telemetry.stats().restarts;

    server.telemetry.crashWorkerForTest();
    await waitFor(() => !server.telemetry.stats().running, 'worker down');
    await caller.publishAsync(
      gatewayTopic(site.siteId, site.gatewayId, 'events'),
      JSON.stringify({ v: 1, id: 'crash-fall', seq: 100, ts: new Date().toISOString(), device: 'radar-203', type: 'fall' }),
      { qos: 1 },
    );
    await screen.waitForAlarm((a) => a.deviceId === 'radar-203' && a.type === 'fall', 'a fall while the worker is down');
    // Readings sent while it is down wait in the queue and are stored once it is back.
    await caller.publishAsync(topic, reading(96), { qos: 1 });
    await waitFor(() => server.telemetry.stats().running, 'worker restarted', 30_000);
    expect(server.telemetry.stats().restarts).toBe(restartsBefore + 1);
    await waitFor(async () => (await chartPoints()) >= 2, 'reading stored after the restart', 30_000);
  }, 120_000);

  it('the worker thread runs at a lower OS priority than the alarm lane, which keeps its own (restarted workers too)', async () => {
    await waitFor(() => server.telemetry.stats().running, 'worker running', 30_000);
    // Linux gives each thread its own nice value: the worker lowered only itself.
    expect(server.telemetry.stats().workerNice).toBe(process.platform === 'linux' ? Math.max(os.getPriority(), 10) : null);
    expect(os.getPriority()).toBe(mainNice);
  });
});

describe('telemetry retention', () => {
  it('pruning runs in the telemetry worker and the scheduler does not wait for it', async () => {
    const clock = new FakeClock(Date.now());
    const s = await startTestServer(undefined, { clock });
    try {
      await waitFor(() => s.telemetry.stats().running, 'telemetry worker running', 30_000);
      // 200,000 readings past the 90-day retention: pruned 2,000 a statement, with pauses between.
      const db = new SQLite(path.join(s.dataDir, TELEMETRY_FILE));
      const old = new Date(clock.now() - 100 * 86_400_000).toISOString();
      const insert = db.prepare(
        "INSERT INTO telemetry (site_id, device_id, resident_id, metric, value, ts) VALUES ('s', 'd', NULL, 'spo2', 97, ?)",
      );
      db.transaction(() => {
        for (let i = 0; i < 200_000; i += 1) insert.run(old);
      })();
      const count = () => (db.prepare('SELECT count(*) AS n FROM telemetry').get() as { n: number }).n;
      clock.advance(2 * 3600_000);
      await s.tick();
      // The tick is over while the worker is still pruning (it used to await the whole prune).
      expect(count()).toBeGreaterThan(0);
      await waitFor(() => count() === 0, 'old readings pruned', 60_000);
      db.close();
    } finally {
      await s.stop();
    }
  }, 120_000);
});

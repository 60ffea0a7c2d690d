// Focused driver for issue 13: the server's event-loop delay and call latency while a telemetry
// flood runs behind (the "alarm latency" phase of `npm run bench`, alone and shorter).
// `npx tsx bench/telemetry-loop.ts [--seconds 10] [--points 20000] [--calls 50]`; with
// BENCH_CPU_PROF=dir the server writes a V8 CPU profile there (read it with bench/profile-top.mjs).
// Prints one JSON line. The event-loop figure is prom-client's monitorEventLoopDelay p99 over the
// load window (the histogram is reset by a /metrics read just before the load starts).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import mqtt, { type MqttClient } from 'mqtt';
import WebSocket from 'ws';
import { gatewayTopic } from '../protocol/index.ts';
import { api, constantRate, histogram, metric, startServerProcess, waitUntil } from './lib.ts';
import { registerSite } from './phases/common.ts';

const { values } = parseArgs({
  options: { seconds: { type: 'string' }, points: { type: 'string' }, calls: { type: 'string' } },
});
const seconds = Number(values.seconds ?? 10);
const pointRate = Number(values.points ?? 20_000);
const callRate = Number(values.calls ?? 50);

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'care-tloop-'));
const server = await startServerProcess(dataDir);
try {
  const { token, siteId, gateways } = await registerSite(server, 4);
  // Calls come from 20 registered buttons (pressed in turn; each press after the first raises the
  // open alarm's count), so no budget for unknown devices applies.
  const resident = await api<{ id: string }>(server.url, 'POST', '/api/v1/residents', { siteId, name: 'R', room: '1' }, token);
  const BUTTONS = 20;
  for (let b = 0; b < BUTTONS; b += 1) {
    await api(
      server.url,
      'POST',
      '/api/v1/devices',
      { id: `c-${b}`, gatewayId: gateways[0]?.id, kind: 'call_button', residentId: resident.id },
      token,
    );
  }
  for (const g of gateways) {
    g.client = await mqtt.connectAsync(server.mqttUrl, { clientId: g.id, username: g.id, password: g.secret, reconnectPeriod: 0 });
  }
  const ws = new WebSocket(`${server.url.replace('http', 'ws')}/ws?token=${token}`);
  await new Promise((r) => ws.once('open', r));
  const sentAt = new Map<string, number>();
  const h = histogram();
  ws.on('message', (d) => {
    const m = JSON.parse(String(d)) as { type: string; alarm?: { deviceId: string; count: number } };
    const key = m.type === 'alarm' && m.alarm ? `${m.alarm.deviceId}#${m.alarm.count}` : '';
    const t = sentAt.get(key);
    if (t !== undefined) {
      sentAt.delete(key);
      h.record(performance.now() - t);
    }
  });
  // Gateway 0 sends calls; 1..3 send telemetry in batches of 100 (as bench/run.ts does).
  let stop = false;
  const flood = constantRate(pointRate / 100, seconds * 1000 + 1000, (i) => {
    if (stop) return;
    const g = 1 + (i % 3);
    const gw = gateways[g];
    const ts = new Date().toISOString();
    const points = Array.from({ length: 100 }, (_, k) => ({
      device: `t-${g}-${k % 10}`,
      metric: 'heart_rate',
      value: 60 + ((i + k) % 30),
      ts,
    }));
    gw?.client?.publish(gatewayTopic(siteId, gw.id, 'telemetry'), JSON.stringify({ v: 1, ts, points }), { qos: 1 });
  });
  await new Promise((r) => setTimeout(r, 500));
  await metric(server.url, 'nodejs_eventloop_lag_p99_seconds'); // resets the histogram
  const caller = gateways[0] as { id: string; client: MqttClient };
  const sent = await constantRate(callRate, seconds * 1000, (i, at) => {
    const device = `c-${i % BUTTONS}`;
    sentAt.set(`${device}#${Math.floor(i / BUTTONS) + 1}`, at);
    caller.client.publish(
      gatewayTopic(siteId, caller.id, 'events'),
      JSON.stringify({ v: 1, id: `a-${i}`, seq: i + 1, ts: new Date().toISOString(), device, type: 'call' }),
      { qos: 1 },
    );
  });
  // One read for both figures: each read of /metrics resets the histogram.
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const sample = (name: string) => {
    const line = text.split('\n').find((l) => l.startsWith(`${name} `));
    return line ? Number(line.split(' ')[1]) : null;
  };
  const loopP99 = sample('nodejs_eventloop_lag_p99_seconds');
  const loopMax = sample('nodejs_eventloop_lag_max_seconds');
  stop = true;
  await flood;
  await waitUntil(() => h.count >= sent, 15_000);
  const points = await metric(server.url, 'care_ingest_telemetry_points_total');
  console.log(
    JSON.stringify({
      seconds,
      pointRate,
      callRate,
      loopP99Ms: loopP99 === null ? null : Math.round(loopP99 * 100_000) / 100,
      loopMaxMs: loopMax === null ? null : Math.round(loopMax * 100_000) / 100,
      calls: { sent, ...h.summary() },
      pointsCounted: points,
      load: os.loadavg()[0],
    }),
  );
  ws.close();
  for (const g of gateways) await g.client?.endAsync();
} finally {
  await server.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
}

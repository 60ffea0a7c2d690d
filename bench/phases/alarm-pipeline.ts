// Alarm latency: gateway publish to the alarm on every caregiver screen through the whole pipeline,
// at 1,000 call events/s with 20,000 telemetry points/s behind; the server's event-loop p99 during
// it; then a storm of 1,000 falls at once on top of the telemetry.
import fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { gatewayTopic } from '../../protocol/index.ts';
import { constantRate, type Histogram, histogram, metric, type ServerProc, waitUntil } from '../lib.ts';
import { backgroundTelemetry, EVENT_RATE, event, log, SCREENS, type Settings, type Site, TELEMETRY_RATE } from './common.ts';

export const STORM_SIZE = 1000;

/**
 * The devices the phase's events come from, each registered on the gateway that publishes for it:
 * every call comes from a device of its own (`c-i`, so each raises a new alarm), the storm's falls
 * from `s-i`.
 */
export function alarmPhaseDevices(gateways: number, durationMs: number, eventRate = EVENT_RATE) {
  const calls = Math.floor((eventRate * durationMs) / 1000); // what constantRate sends
  return [
    ...Array.from({ length: calls }, (_, i) => ({ id: `c-${i}`, gateway: i % gateways, kind: 'call_button' })),
    ...Array.from({ length: STORM_SIZE }, (_, i) => ({ id: `s-${i}`, gateway: i % gateways, kind: 'fall_detector' })),
  ];
}

/**
 * `screensOn` may list other instances of a cluster (screens are spread over them in turn): their
 * alarms also cross the instances' bus (Redis or PostgreSQL), and `byInstance` gives each
 * instance's own figures.
 */
export async function alarmPipelinePhase(
  P: Settings,
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
  /** BENCH_TRACE=file: each alarm's send time and latency on the first screen (to find periodic stalls). */
  const TRACE: Array<[number, number]> = [];
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
      if (s === 0 && process.env.BENCH_TRACE) TRACE.push([Math.round(t), Math.round(performance.now() - t)]);
      ownHistogram.record(performance.now() - t);
      delivered.set(m.alarm.deviceId, (delivered.get(m.alarm.deviceId) ?? 0) + 1);
    });
    screens.push(ws);
  }
  // prom-client resets its event-loop histogram at each scrape: this one starts the phase's window.
  await metric(server.url, 'nodejs_eventloop_lag_p99_seconds');
  const cpuAtStart = cpuNow(server);
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
  // The server's own event-loop p99 (prom-client's monitor) since the scrape above: this phase only.
  const loopP99 = await metric(server.url, 'nodejs_eventloop_lag_p99_seconds');
  if (process.env.BENCH_TRACE) fs.writeFileSync(process.env.BENCH_TRACE, JSON.stringify(TRACE));
  const eventLoopP99Ms = loopP99 === null ? null : Math.round(loopP99 * 100_000) / 100;
  const cpu = cpuShares(cpuAtStart, cpuNow(server));

  if (!withStorm) {
    bg.stop();
    for (const ws of screens) ws.close();
    return { latency, storm: null, eventLoopP99Ms, cpu };
  }
  log(`storm: ${STORM_SIZE} falls at once on top of the telemetry`);
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
  for (let i = 0; i < STORM_SIZE; i += 1) {
    const gw = site.gateways[i % site.gateways.length];
    const device = `s-${i}`;
    stormSent.set(device, t0);
    gw?.client?.publish(gatewayTopic(site.siteId, gw.id, 'events'), event(`s-${i}`, device, 'fall'), { qos: 1 });
  }
  await waitUntil(() => stormDelivered.size >= STORM_SIZE * SCREENS, 20_000);
  bg.stop();
  for (const ws of screens) ws.close();
  return {
    latency,
    storm: { ...storm.summary(), delivered: stormDelivered.size / SCREENS, sent: STORM_SIZE },
    eventLoopP99Ms,
    cpu,
  };
}

/** CPU time so far (ms) of the machine (busy and all), the server process and this load generator. */
interface CpuSample {
  at: number;
  machineBusy: number;
  machineAll: number;
  server: number | null;
  generator: number;
}

const TICK_MS = 10; // USER_HZ is 100 on Linux

function cpuNow(server: ServerProc): CpuSample {
  const at = performance.now();
  const generator = (process.cpuUsage().user + process.cpuUsage().system) / 1000;
  let machineBusy = 0;
  let machineAll = 0;
  let serverMs: number | null = null;
  try {
    const [, ...f] = (fs.readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/);
    const n = f.map(Number);
    machineAll = n.slice(0, 8).reduce((x, y) => x + y, 0) * TICK_MS;
    machineBusy = machineAll - ((n[3] ?? 0) + (n[4] ?? 0)) * TICK_MS; // idle + iowait
    if (server.child.pid) {
      const stat = fs.readFileSync(`/proc/${server.child.pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      serverMs = (Number(fields[11]) + Number(fields[12])) * TICK_MS; // utime + stime, all threads
    }
  } catch {
    // Not Linux: the shares stay unknown.
  }
  return { at, machineBusy, machineAll, server: serverMs, generator };
}

/**
 * Where the two cores went during the phase, in % of one core: the server (main thread, telemetry
 * worker and thread pool together), this generator (publishers, screens) and the whole machine
 * (of cores x 100 %). When the machine is near its total, every thread waits for a core.
 */
function cpuShares(a: CpuSample, b: CpuSample) {
  const wall = b.at - a.at;
  const pct = (x: number) => Math.round((x / wall) * 1000) / 10;
  const cores = b.machineAll > a.machineAll ? (b.machineAll - a.machineAll) / wall : null;
  return {
    serverPctOfCore: a.server === null || b.server === null ? null : pct(b.server - a.server),
    generatorPctOfCore: pct(b.generator - a.generator),
    machineBusyPctOfCore: cores === null ? null : pct(b.machineBusy - a.machineBusy),
    cores: cores === null ? null : Math.round(cores * 10) / 10,
  };
}

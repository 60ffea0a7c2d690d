// Benchmark helpers: constant-rate senders (latency is measured from the intended send time, so a
// stalled generator cannot hide latency: no coordinated omission), HDR histograms in microseconds,
// a server child process with its resident memory and event-loop figures.
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import * as hdr from 'hdr-histogram-js';
import { freePort } from '../scripts/free-port.ts';

export { freePort };

export const root = path.resolve(import.meta.dirname, '..');

export function histogram() {
  const h = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });
  return {
    /** Records a latency in milliseconds (kept in microseconds). */
    record(ms: number) {
      h.recordValue(Math.max(1, Math.round(ms * 1000)));
    },
    get count() {
      return h.totalCount;
    },
    summary() {
      const at = (p: number) => Math.round(h.getValueAtPercentile(p)) / 1000;
      return { p50Ms: at(50), p99Ms: at(99), p999Ms: at(99.9), maxMs: Math.round(h.maxValue) / 1000, count: h.totalCount };
    },
  };
}
export type Histogram = ReturnType<typeof histogram>;

/** Calls `send(i, intendedAt)` at `rate` per second for `durationMs`, catching up in bursts when late. */
export async function constantRate(rate: number, durationMs: number, send: (i: number, intendedAt: number) => void): Promise<number> {
  const total = Math.floor((rate * durationMs) / 1000);
  const start = performance.now();
  let i = 0;
  while (i < total) {
    const due = Math.min(total, Math.floor(((performance.now() - start) * rate) / 1000) + 1);
    for (; i < due; i += 1) send(i, start + (i * 1000) / rate);
    await new Promise((r) => setTimeout(r, 1));
  }
  return total;
}

export async function waitUntil(check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

export interface ServerProc {
  child: ChildProcess;
  url: string;
  mqttUrl: string;
  dataDir: string;
  rssMb(): number;
  stop(): Promise<void>;
}

export async function startServerProcess(dataDir: string, env: Record<string, string> = {}, startTimeoutMs = 60_000): Promise<ServerProc> {
  // Given ports (a restart on the same ones) or free ones.
  const httpPort = Number(env.CARE_HTTP_PORT ?? (await freePort()));
  const mqttPort = Number(env.CARE_MQTT_PORT ?? (await freePort()));
  // BENCH_CPU_PROF=dir writes a V8 CPU profile of the server, to find what bounds a figure.
  const prof = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
  const child = spawn(process.execPath, [...prof, '--import', 'tsx', path.join(root, 'server/main.ts')], {
    cwd: root,
    env: {
      ...process.env,
      CARE_DATA_DIR: dataDir,
      CARE_HTTP_PORT: String(httpPort),
      CARE_MQTT_PORT: String(mqttPort),
      CARE_BIND_HOST: '127.0.0.1',
      CARE_LOG_LEVEL: 'error',
      CARE_ADMIN_PASSWORD: 'bench-admin-password',
      CARE_LOGIN_RATE_LIMIT: '100000',
      // The benchmark measures capacity; the per-gateway limit is a safety net set far above it.
      CARE_MQTT_RATE: '1000000',
      CARE_MQTT_BURST: '1000000',
      // Any free port for the GPS watch listener: a cluster phase runs two servers at once.
      CARE_WATCH_PORT: '0',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${httpPort}`;
  const up = await waitUntil(async () => {
    try {
      return (await fetch(`${url}/healthz`)).ok;
    } catch {
      return false;
    }
  }, startTimeoutMs);
  if (!up) {
    child.kill('SIGKILL');
    throw new Error('server did not start');
  }
  return {
    child,
    url,
    mqttUrl: `mqtt://127.0.0.1:${mqttPort}`,
    dataDir,
    rssMb() {
      const status = fs.readFileSync(`/proc/${child.pid}/status`, 'utf8');
      const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
      return kb / 1024;
    },
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    },
  };
}

export async function api<T>(url: string, method: string, route: string, body?: unknown, token?: string): Promise<T> {
  const res = await fetch(`${url}${route}`, {
    method,
    headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  if (!res.ok) throw new Error(`${method} ${route}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** Reads one Prometheus sample from the server's /metrics. */
export async function metric(url: string, name: string): Promise<number | null> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(' ')[1]) : null;
}

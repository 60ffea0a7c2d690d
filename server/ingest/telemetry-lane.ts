// Telemetry's own lane, off the alarm path. The main thread only checks the sender (in ingest),
// copies the payload into a bounded queue and hands chunks to the telemetry worker thread
// (telemetry-worker.ts), which decodes, stores and prunes. What comes back is small: the alarms
// readings ask for (vitals, low battery), the devices heard, counts. When the queue is full the
// fullest gateway's oldest telemetry is shed and counted (events never come here). A worker that dies is logged
// and restarted with backoff; alarms never wait for it. Chart queries run on the main thread
// against the store directly (reads do not take SQLite's write lock).
import type { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { DEFAULT_LOW_BATTERY_PERCENT } from '../alarms/low-battery.ts';
import type { ServerConfig } from '../config.ts';
import type { BatchingOptions, TelemetryBackend, TelemetryPoint, TelemetryStatus, TelemetryStore } from '../storage/telemetry.ts';
import { bucketSecondsFor } from '../storage/telemetry.ts';
import { startTsWorker } from '../ts-worker.ts';
import { createTelemetryQueue } from './telemetry-queue.ts';
import type { TelemetryFindings, TelemetryMessage } from './telemetry-reader.ts';

export interface WorkerSettings {
  config: Pick<ServerConfig, 'dataDir' | 'databaseUrl' | 'influx' | 'telemetryRetentionDays'>;
  logLevel: string;
  lowBatteryPercent: number;
  batching: Partial<BatchingOptions>;
}

export type ToWorker =
  | { type: 'chunk'; seq: number; messages: TelemetryMessage[] }
  | { type: 'rows'; rows: TelemetryPoint[] }
  | { type: 'forget' }
  | { type: 'call'; id: number; op: 'prune' | 'flush' | 'close'; beforeIso?: string }
  | { type: 'crash' };

export type ToLane =
  /** `nice`: the worker thread's scheduling priority after it lowered it (null: could not). */
  | { type: 'ready'; nice: number | null }
  | { type: 'log'; line: string }
  | { type: 'store_error'; status: TelemetryStatus }
  | { type: 'chunk_done'; seq: number; findings: TelemetryFindings; status: TelemetryStatus }
  | { type: 'reply'; id: number; ok: boolean; value?: number | null; error?: string; status: TelemetryStatus };

export interface TelemetryLaneOptions {
  /** Messages waiting for the worker; past it the oldest are shed. */
  maxQueued: number;
  /** Bytes of payload waiting for the worker; past it the oldest are shed. */
  maxQueuedBytes: number;
  /** Messages handed to the worker at once. */
  chunk: number;
  /** Chunks the worker holds at once (one being read, one waiting). */
  inFlight: number;
  restartMinMs: number;
  restartMaxMs: number;
}

const DEFAULTS: TelemetryLaneOptions = {
  maxQueued: 5000, // at 100 points a message: 500,000 points, 25 s of a 20,000 points/s flood
  maxQueuedBytes: 64 * 1024 * 1024, // 64 MiB
  chunk: 100,
  inFlight: 2,
  restartMinMs: 500,
  restartMaxMs: 30_000,
};
const SHED_WARNING_MS = 10_000;

export interface TelemetryLaneDeps {
  config: WorkerSettings['config'];
  /** The main thread's back end, for chart queries only. */
  queryBackend: TelemetryBackend;
  log: Logger;
  lowBatteryPercent?: number;
  /** SQLite: rows per write transaction in the worker, short so the alarm writer waits little for the lock. */
  batching?: Partial<BatchingOptions>;
  /** What a chunk found: alarms to raise, devices heard, counts. */
  onFindings(findings: TelemetryFindings): void;
  onStoreError(): void;
  /** Messages shed because the queue was full, or lost with a worker that died. */
  onShed(messages: number, reason: 'queue_full' | 'worker_died'): void;
  options?: Partial<TelemetryLaneOptions>;
}

export interface TelemetryLane extends TelemetryStore {
  /** A telemetry message from a checked sender. Never blocks; copies the payload. */
  submit(siteId: string, gatewayId: string, topic: string, payload: Uint8Array): void;
  /** The registry changed: the worker reads devices and residents afresh. */
  forgetDevices(): void;
  /** `workerNice`: the worker thread's OS priority (Linux nice; higher yields the CPU to the alarm lane). */
  stats(): { queued: number; shed: number; restarts: number; running: boolean; workerNice: number | null };
  /** Tests: ends the worker with an uncaught error, as a bug would. */
  crashWorkerForTest(): void;
}

export function createTelemetryLane(deps: TelemetryLaneDeps): TelemetryLane {
  const opts = { ...DEFAULTS, ...deps.options };
  const { log } = deps;
  const settings: WorkerSettings = {
    config: deps.config,
    logLevel: log.level,
    lowBatteryPercent: deps.lowBatteryPercent ?? DEFAULT_LOW_BATTERY_PERCENT,
    batching: deps.batching ?? (deps.config.databaseUrl || deps.config.influx ? {} : { maxBatch: 500 }),
  };
  const queue = createTelemetryQueue({ maxMessages: opts.maxQueued, maxBytes: opts.maxQueuedBytes });
  let worker: Worker | null = null;
  let ready = false;
  let workerNice: number | null = null;
  let closing = false;
  let seq = 0;
  const inFlight = new Map<number, number>(); // chunk seq -> messages
  let shed = 0;
  let shedUnwarned = 0;
  let lastShedWarning = 0;
  let restarts = 0;
  let failuresInARow = 0;
  let restartTimer: NodeJS.Timeout | null = null;
  let callId = 0;
  const calls = new Map<number, { resolve: (v: number | null) => void; reject: (e: Error) => void }>();
  let lastStatus: TelemetryStatus = { backend: deps.queryBackend.name, ok: true, buffered: 0, dropped: 0, lastError: null };

  function start() {
    ready = false;
    const w = startTsWorker(new URL('./telemetry-worker.ts', import.meta.url), { ...settings });
    worker = w;
    w.on('message', (m: ToLane) => onMessage(w, m));
    w.on('error', (err) => log.error({ err }, 'telemetry worker failed'));
    w.on('exit', (code) => onExit(w, code));
  }

  function onMessage(w: Worker, m: ToLane) {
    if (w !== worker) return;
    switch (m.type) {
      case 'ready':
        ready = true;
        workerNice = m.nice;
        if (restarts > 0) log.info({ restarts }, 'telemetry worker restarted');
        pump();
        return;
      case 'log':
        relayLog(m.line);
        return;
      case 'store_error':
        lastStatus = m.status;
        deps.onStoreError();
        return;
      case 'chunk_done':
        inFlight.delete(m.seq);
        lastStatus = m.status;
        failuresInARow = 0;
        try {
          deps.onFindings(m.findings);
        } catch (err) {
          log.error({ err }, 'telemetry findings failed');
        }
        pump();
        return;
      case 'reply': {
        lastStatus = m.status;
        const call = calls.get(m.id);
        calls.delete(m.id);
        if (m.ok) call?.resolve(m.value ?? null);
        else call?.reject(new Error(m.error ?? 'telemetry worker call failed'));
        return;
      }
    }
  }

  function onExit(w: Worker, code: number) {
    if (w !== worker) return;
    worker = null;
    ready = false;
    const lost = [...inFlight.values()].reduce((a, b) => a + b, 0);
    inFlight.clear();
    for (const [id, call] of calls) {
      calls.delete(id);
      call.reject(new Error('telemetry worker stopped'));
    }
    if (closing) return;
    if (lost > 0) {
      shed += lost;
      deps.onShed(lost, 'worker_died');
    }
    restarts += 1;
    failuresInARow += 1;
    deps.onStoreError();
    const delay = Math.min(opts.restartMinMs * 2 ** (failuresInARow - 1), opts.restartMaxMs);
    log.error(
      { code, lostMessages: lost, restartInMs: delay, restarts },
      'telemetry worker stopped; restarting it (alarms are not affected)',
    );
    lastStatus = { ...lastStatus, ok: false, lastError: `worker stopped (exit code ${code})` };
    restartTimer = setTimeout(() => {
      restartTimer = null;
      if (!closing) start();
    }, delay);
  }

  const LEVELS: Record<number, 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'trace'> = {
    10: 'trace',
    20: 'debug',
    30: 'info',
    40: 'warn',
    50: 'error',
    60: 'fatal',
  };
  function relayLog(line: string) {
    try {
      const { level, msg, time: _time, pid: _pid, hostname: _host, ...fields } = JSON.parse(line) as Record<string, unknown>;
      log[LEVELS[Number(level)] ?? 'info']({ ...fields, thread: 'telemetry' }, String(msg ?? ''));
    } catch {
      log.warn('telemetry worker wrote an unreadable log line');
    }
  }

  function pump() {
    while (worker && ready && inFlight.size < opts.inFlight && queue.length > 0) {
      const messages = queue.take(opts.chunk);
      seq += 1;
      inFlight.set(seq, messages.length);
      const msg: ToWorker = { type: 'chunk', seq, messages };
      // Each payload is its own compact copy (see submit): moved to the worker, not copied again.
      worker.postMessage(
        msg,
        messages.map((m) => m.payload.buffer as ArrayBuffer),
      );
    }
  }

  /** Waits for a worker that is starting or restarting (a prune just after start-up). */
  async function running(timeoutMs: number): Promise<Worker> {
    const deadline = Date.now() + timeoutMs;
    while (!(worker && ready) && (worker || restartTimer) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    if (!worker || !ready) throw new Error('telemetry worker not running');
    return worker;
  }

  async function call(op: 'prune' | 'flush' | 'close', beforeIso?: string, waitMs = 30_000): Promise<number | null> {
    const w = await running(waitMs);
    callId += 1;
    const id = callId;
    return new Promise((resolve, reject) => {
      calls.set(id, { resolve, reject });
      w.postMessage({ type: 'call', id, op, beforeIso } satisfies ToWorker);
    });
  }

  start();

  return {
    submit(siteId, gatewayId, topic, payload) {
      // A compact copy: the broker's buffer may be a slice of a larger read buffer.
      const copy = new Uint8Array(payload);
      const dropped = queue.push({ siteId, gatewayId, topic, payload: copy });
      if (dropped > 0) {
        shed += dropped;
        shedUnwarned += dropped;
        deps.onShed(dropped, 'queue_full');
        if (Date.now() - lastShedWarning >= SHED_WARNING_MS) {
          log.warn(
            { shed: shedUnwarned, shedTotal: shed, queued: queue.length },
            "telemetry queue full; the fullest gateway's oldest telemetry shed",
          );
          shedUnwarned = 0;
          lastShedWarning = Date.now();
        }
      }
      pump();
    },
    write(points: TelemetryPoint[]) {
      if (points.length > 0 && worker && ready) worker.postMessage({ type: 'rows', rows: points } satisfies ToWorker);
    },
    query: (q) => deps.queryBackend.query(q, bucketSecondsFor(q.from, q.to)),
    status: () => ({
      ...lastStatus,
      ok: lastStatus.ok && worker !== null,
      buffered: lastStatus.buffered + queue.length,
      dropped: lastStatus.dropped + shed,
    }),
    async prune(beforeIso) {
      return (await call('prune', beforeIso)) ?? 0;
    },
    async flush() {
      // Everything queued reaches the worker first (messages are handled in order).
      const deadline = Date.now() + 30_000;
      while ((queue.length > 0 || inFlight.size > 0) && worker && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 10));
      }
      await call('flush', undefined, 10_000);
    },
    async close() {
      if (closing) return;
      // No restarts from here on; what is queued is still written if the worker runs.
      closing = true;
      if (restartTimer) clearTimeout(restartTimer);
      try {
        // A worker still starting holds nothing: only what is queued here would make it worth waiting for.
        if (ready || queue.length > 0) await this.flush();
      } catch (err) {
        log.warn({ err: (err as Error).message }, 'telemetry not flushed at shutdown');
      }
      const w = worker;
      // The worker closes its store after what it is doing (a prune may take minutes): 10 s at most.
      if (w && ready)
        await Promise.race([call('close', undefined, 10_000).catch(() => null), new Promise((r) => setTimeout(r, 10_000).unref())]);
      worker = null;
      await w?.terminate();
      await deps.queryBackend.close?.();
    },
    forgetDevices() {
      if (worker && ready) worker.postMessage({ type: 'forget' } satisfies ToWorker);
    },
    stats: () => ({ queued: queue.length, shed, restarts, running: worker !== null && ready, workerNice }),
    crashWorkerForTest() {
      worker?.postMessage({ type: 'crash' } satisfies ToWorker);
    },
  };
}

// Telemetry behind one interface, with three back ends chosen by configuration: SQLite (default),
// InfluxDB 1.x and InfluxDB 2.x/3.x. All share one batching writer: points are queued (bounded),
// written in batches by size and time, and retried with backoff while the store is down, so
// readings never share a transaction with alarms and a failing store never blocks event ingest.
import type { Logger } from 'pino';
import { backoffDelay } from '../../protocol/backoff.ts';
import type { TelemetryTable } from './tables.ts';

export type TelemetryPoint = TelemetryTable;

export interface TelemetryQuery {
  residentId: string;
  metric?: string;
  from: string;
  to: string;
  limit?: number;
}

/** A chart point: raw, or the mean of a time bucket when the range is long. */
export interface ChartPoint {
  ts: string;
  metric: string;
  value: number;
  device: string;
}

export interface TelemetryStatus {
  backend: string;
  ok: boolean;
  buffered: number;
  dropped: number;
  lastError: string | null;
}

export interface TelemetryStore {
  /** Queues points; they are written within the flush interval. Never blocks event ingest. */
  write(points: TelemetryPoint[]): void;
  query(q: TelemetryQuery): Promise<ChartPoint[]>;
  status(): TelemetryStatus;
  /** Deletes points older than `beforeIso` (where the back end does not expire them itself). */
  prune(beforeIso: string): Promise<number>;
  flush(): Promise<void>;
  close(): Promise<void>;
}

/** What a back end provides; the batching, buffering and retries are shared. */
export interface TelemetryBackend {
  name: string;
  writeBatch(points: TelemetryPoint[]): Promise<void>;
  query(q: TelemetryQuery, bucketSeconds: number | null): Promise<ChartPoint[]>;
  prune?(beforeIso: string): Promise<number>;
  close?(): Promise<void>;
}

export interface BatchingOptions {
  maxBatch: number;
  flushMs: number;
  /** Points held while the store fails; past it the oldest are dropped and counted. */
  maxBuffered: number;
  maxBackoffMs: number;
}

const DROP_WARNING_MS = 10_000;
const DEFAULTS: BatchingOptions = { maxBatch: 5000, flushMs: 250, maxBuffered: 200_000, maxBackoffMs: 30_000 };

/** Ranges up to this are served raw; longer ones as bucket means, about this many per series. */
const RAW_RANGE_MS = 6 * 3600_000;
const TARGET_POINTS = 1500;

/** A chart value: two decimals, except positions (0.01° is about 1 km; six decimals keep metres). */
export function chartValue(metric: string, value: number): number {
  const scale = metric === 'latitude' || metric === 'longitude' ? 1e6 : 100;
  return Math.round(value * scale) / scale;
}

export function bucketSecondsFor(fromIso: string, toIso: string): number | null {
  const range = Date.parse(toIso) - Date.parse(fromIso);
  if (range <= RAW_RANGE_MS) return null;
  return Math.max(1, Math.ceil(range / 1000 / TARGET_POINTS));
}

export function createBatchingTelemetry(
  backend: TelemetryBackend,
  log: Logger,
  onError: () => void,
  options: Partial<BatchingOptions> = {},
): TelemetryStore {
  const opts = { ...DEFAULTS, ...options };
  let buffer: TelemetryPoint[] = [];
  let timer: NodeJS.Timeout | null = null;
  let writing: Promise<void> | null = null;
  let failures = 0;
  let dropped = 0;
  let lastError: string | null = null;
  /** Dropped since the last warning: a long outage warns every few seconds, not per batch. */
  let droppedUnwarned = 0;
  let lastDropWarning = 0;

  async function writeOut(): Promise<void> {
    timer = null;
    while (buffer.length > 0) {
      const batch = buffer.slice(0, opts.maxBatch);
      try {
        await backend.writeBatch(batch);
        buffer = buffer.slice(batch.length);
        if (failures > 0) log.info({ backend: backend.name, buffered: buffer.length }, 'telemetry store back; writing the backlog');
        failures = 0;
        lastError = null;
      } catch (err) {
        failures += 1;
        lastError = (err as Error).message;
        onError();
        const retryMs = backoffDelay(failures - 1, { baseMs: 1000, capMs: opts.maxBackoffMs, minShare: 1 });
        if (failures === 1 || failures % 10 === 0) {
          log.error(
            { backend: backend.name, err: lastError, buffered: buffer.length, retryMs },
            'telemetry write failed; buffering and retrying',
          );
        }
        schedule(retryMs);
        return;
      }
    }
  }

  function schedule(ms: number) {
    timer ??= setTimeout(() => {
      writing = writeOut().finally(() => {
        writing = null;
      });
    }, ms);
  }

  return {
    write(points) {
      if (points.length === 0) return;
      buffer.push(...points);
      if (buffer.length > opts.maxBuffered) {
        const over = buffer.length - opts.maxBuffered;
        buffer = buffer.slice(over);
        dropped += over;
        droppedUnwarned += over;
        if (Date.now() - lastDropWarning >= DROP_WARNING_MS) {
          log.warn(
            { backend: backend.name, dropped: droppedUnwarned, droppedTotal: dropped },
            'telemetry buffer full; oldest points dropped',
          );
          droppedUnwarned = 0;
          lastDropWarning = Date.now();
        }
      }
      // While the store is failing, the retry timer owns the next attempt.
      if (failures === 0) schedule(buffer.length >= opts.maxBatch ? 0 : opts.flushMs);
    },
    query: (q) => backend.query(q, bucketSecondsFor(q.from, q.to)),
    status: () => ({ backend: backend.name, ok: failures === 0, buffered: buffer.length, dropped, lastError }),
    prune: async (beforeIso) => (backend.prune ? backend.prune(beforeIso) : 0),
    async flush() {
      if (timer) {
        clearTimeout(timer);
        timer = null;
      }
      if (writing) await writing;
      await writeOut();
    },
    async close() {
      await this.flush();
      await backend.close?.();
    },
  };
}

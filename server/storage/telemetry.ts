// Telemetry behind one interface. This is the SQLite back end (the default); it batches writes
// by size and time so readings never share a transaction with alarms.
import type { Logger } from 'pino';
import type { Db } from './registry.ts';
import type { TelemetryTable } from './tables.ts';

export type TelemetryPoint = TelemetryTable;

export interface TelemetryStore {
  /** Queues points; they are written within `flushMs`. Never blocks event ingest. */
  write(points: TelemetryPoint[]): void;
  query(q: { residentId: string; metric?: string; from: string; to: string; limit?: number }): Promise<TelemetryPoint[]>;
  flush(): Promise<void>;
  close(): Promise<void>;
}

export interface SqliteTelemetryOptions {
  maxBatch: number;
  flushMs: number;
  /** Points held while the store fails; past it the oldest are dropped and counted. */
  maxBuffered: number;
}

export function createSqliteTelemetry(
  db: Db,
  log: Logger,
  onError: () => void,
  opts: SqliteTelemetryOptions = { maxBatch: 5000, flushMs: 250, maxBuffered: 200_000 },
): TelemetryStore {
  let buffer: TelemetryPoint[] = [];
  let timer: NodeJS.Timeout | null = null;
  let writing: Promise<void> | null = null;

  async function writeOut(): Promise<void> {
    timer = null;
    while (buffer.length > 0) {
      const batch = buffer.slice(0, opts.maxBatch);
      try {
        // SQLite caps bound parameters; 6 columns x 150 rows stays under it.
        await db.transaction().execute(async (tx) => {
          for (let i = 0; i < batch.length; i += 150) {
            await tx
              .insertInto('telemetry')
              .values(batch.slice(i, i + 150))
              .execute();
          }
        });
        buffer = buffer.slice(batch.length);
      } catch (err) {
        onError();
        log.error({ err }, 'telemetry write failed; will retry');
        schedule(1000);
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
      buffer.push(...points);
      if (buffer.length > opts.maxBuffered) {
        const dropped = buffer.length - opts.maxBuffered;
        buffer = buffer.slice(dropped);
        log.warn({ dropped }, 'telemetry buffer full; oldest points dropped');
      }
      schedule(buffer.length >= opts.maxBatch ? 0 : opts.flushMs);
    },
    async query(q) {
      let sel = db
        .selectFrom('telemetry')
        .selectAll()
        .where('resident_id', '=', q.residentId)
        .where('ts', '>=', q.from)
        .where('ts', '<=', q.to)
        .orderBy('ts')
        .limit(q.limit ?? 10_000);
      if (q.metric) sel = sel.where('metric', '=', q.metric);
      return sel.execute();
    },
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
    },
  };
}

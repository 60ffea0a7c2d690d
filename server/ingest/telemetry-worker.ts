// The telemetry worker thread: decodes telemetry batches, looks up their devices, runs the reading
// rules (vitals, low battery), stores the readings through the batching writer and prunes old
// ones, all off the main thread, so none of it can delay an alarm. It has its own database
// connection (SQLite: the same file, opened again; PostgreSQL: its own small pool) and its own
// device cache. Started and restarted by telemetry-lane.ts; the messages are typed there.
import os from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import pino from 'pino';
import type { ServerConfig } from '../config.ts';
import { checkpointEvery, openSideConnection, withStatementCache } from '../storage/db.ts';
import { createRegistry, type Db } from '../storage/registry.ts';
import type { Database } from '../storage/tables.ts';
import { createBatchingTelemetry } from '../storage/telemetry.ts';
import { telemetryBackend } from '../storage/telemetry-factory.ts';
import { createLookupCache } from './lookup-cache.ts';
import type { ToLane, ToWorker, WorkerSettings } from './telemetry-lane.ts';
import { createTelemetryReader } from './telemetry-reader.ts';

/** The telemetry thread's nice value (0 is the main thread's; 19 the lowest priority). */
const TELEMETRY_NICE = 10;
/** How often this thread checkpoints care.db's WAL (off the alarm writer's event loop). */
const CHECKPOINT_MS = 500;

const port = parentPort;
if (!port) throw new Error('telemetry-worker.ts runs as a worker thread');
const settings = workerData as WorkerSettings;
const post = (m: ToLane) => port.postMessage(m);

// Logs go to the main thread's logger (its level, its destination), one line at a time.
const log = pino({ level: settings.logLevel }, { write: (line: string) => post({ type: 'log', line }) });

function openDb(config: Pick<ServerConfig, 'dataDir' | 'databaseUrl'>): Db {
  if (config.databaseUrl) {
    const pool = new pg.Pool({ connectionString: config.databaseUrl, max: 2 });
    pool.on('error', (err) => log.warn({ err: err.message }, 'telemetry database connection lost; reconnecting on next use'));
    pg.types.setTypeParser(20, (v) => Number(v));
    return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  }
  // The main thread created and migrated both files. Readings go to the telemetry file (attached:
  // its write lock is not the alarms'), and may lose their last second in a power cut
  // (synchronous=NORMAL). The registry is read from care.db, whose WAL this thread checkpoints.
  const sqlite = openSideConnection(config.dataDir);
  checkpointEvery(sqlite, CHECKPOINT_MS, (err) => log.warn({ err: err.message }, 'state database checkpoint failed; tried again'));
  return new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) });
}

const db = openDb(settings.config);
const lookups = createLookupCache(createRegistry(db));
const reader = createTelemetryReader(lookups, settings.lowBatteryPercent);
const backend = await telemetryBackend(settings.config, { db, engine: settings.config.databaseUrl ? 'postgres' : 'sqlite', log });
const store = createBatchingTelemetry(backend, log, () => post({ type: 'store_error', status: store.status() }), settings.batching);

// One message at a time, in order: a chunk's findings go back before the next chunk is read.
let chain: Promise<void> = Promise.resolve();
async function handle(m: ToWorker): Promise<void> {
  switch (m.type) {
    case 'chunk': {
      const { rows, findings } = await reader.readChunk(m.messages);
      store.write(rows);
      post({ type: 'chunk_done', seq: m.seq, findings, status: store.status() });
      return;
    }
    case 'rows':
      store.write(m.rows);
      return;
    case 'forget':
      lookups.clear();
      return;
    case 'call': {
      try {
        const value =
          m.op === 'prune'
            ? await store.prune(m.beforeIso ?? new Date(0).toISOString())
            : m.op === 'flush'
              ? await store.flush()
              : await close();
        post({ type: 'reply', id: m.id, ok: true, value: typeof value === 'number' ? value : null, status: store.status() });
      } catch (err) {
        post({ type: 'reply', id: m.id, ok: false, error: (err as Error).message, status: store.status() });
      }
      return;
    }
    case 'crash':
      return;
  }
}
async function close() {
  await store.close();
  await db.destroy();
}
port.on('message', (m: ToWorker) => {
  if (m.type === 'crash') {
    // Tests: an uncaught error ends this thread, as a bug or a native fault would.
    setImmediate(() => {
      throw new Error('telemetry worker crash requested');
    });
    return;
  }
  chain = chain
    .then(() => handle(m))
    .catch((err: unknown) => {
      log.error({ err }, 'telemetry worker: message failed');
    });
});
// This thread gives way to the alarm lane when the cores are busy: readings can wait (their queue is
// bounded and sheds, counted), an alarm must not. On Linux a thread has its own nice value, so this
// lowers only this thread (libuv's setpriority with pid 0), never the main thread.
// Elsewhere (macOS, Windows) the same call would lower the whole process, alarms included: there
// the worker keeps the normal priority.
let nice: number | null = null;
if (process.platform === 'linux') {
  try {
    os.setPriority(Math.max(os.getPriority(), TELEMETRY_NICE));
    nice = os.getPriority();
  } catch (err) {
    log.warn({ err: (err as Error).message }, 'telemetry worker could not lower its priority; it competes with the alarm lane for the CPU');
  }
}
post({ type: 'ready', nice });

// Opens the state database and brings its schema up to date: SQLite under CARE_DATA_DIR by
// default, or PostgreSQL (CARE_DATABASE_URL) when several server instances share one state.
// The queries are the same Kysely code on both.
import fs from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { type Driver, Kysely, Migrator, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import { migrationProvider } from './migrations.ts';
import type { Database } from './tables.ts';

export interface OpenedDatabase {
  db: Kysely<Database>;
  /** The raw SQLite handle, for the online backup API; null on PostgreSQL. */
  sqlite: SQLite.Database | null;
  engine: 'sqlite' | 'postgres';
  /**
   * Resolves once every transaction committed before the call is on disk. On SQLite the commit
   * itself does not fsync (`synchronous=NORMAL` in WAL mode: a crash of the process loses nothing,
   * a power cut could lose the last commits); this fsyncs the WAL off the event loop, one fsync for
   * all the commits that wait on it. What is promised outside (the `committed` confirmation that
   * lets a gateway delete an event) waits for it. On PostgreSQL a commit is already durable.
   */
  durable(): Promise<void>;
  close(): Promise<void>;
}

async function migrate(db: Kysely<Database>): Promise<void> {
  const migrator = new Migrator({ db, provider: migrationProvider });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error || failed) {
    await db.destroy();
    throw new Error(`database migration failed${failed ? ` at ${failed.migrationName}` : ''}: ${String(error)}`);
  }
}

export async function openDatabase(
  dataDir: string,
  databaseUrl?: string,
  onPoolError?: (err: Error) => void,
  /** Things worth a line in the log at start (readings moved into their own file, or not). */
  onNotice?: (message: string, detail: Record<string, unknown>) => void,
): Promise<OpenedDatabase> {
  if (databaseUrl) {
    const pool = new pg.Pool({ connectionString: databaseUrl, max: 10 });
    // An idle connection dropped by a database restart must not crash the server; the pool
    // reconnects on the next query, and failed commits are retried by the gateways.
    pool.on('error', (err) => onPoolError?.(err));
    // A connection lost while checked out (inside a transaction, between two queries) emits
    // 'error' on the client, where the pool no longer listens: unheard, it would crash the server.
    // Its query fails anyway, and the pool drops the client when it is released.
    pool.on('connect', (client) => client.on('error', (err) => onPoolError?.(err)));
    // COUNT(*) and BIGINT come back as text by default; the values here fit a JS number.
    pg.types.setTypeParser(20, (v) => Number(v));
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    await migrate(db);
    return { db, sqlite: null, engine: 'postgres', durable: async () => undefined, close: () => db.destroy() };
  }
  fs.mkdirSync(dataDir, { recursive: true });
  const sqlite = new SQLite(path.join(dataDir, 'care.db'));
  sqlite.pragma('journal_mode = WAL');
  // An event confirmed to a gateway as committed must survive a power cut: the confirmation waits
  // for `durable()`, an fsync of the WAL on libuv's thread pool, instead of an fsync inside every
  // COMMIT on the event loop (`synchronous=FULL`). See docs/decisions.md.
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('foreign_keys = ON');
  // Checkpoints (copying the WAL into the database and fsyncing it) run in the telemetry worker
  // (`checkpointEvery`), not inside an alarm's COMMIT on the event loop; this connection checkpoints
  // only if the WAL outgrows CHECKPOINT_FALLBACK_PAGES (the worker down or behind).
  sqlite.pragma(`wal_autocheckpoint = ${CHECKPOINT_FALLBACK_PAGES}`);
  attachTelemetry(sqlite, dataDir);
  const db = new Kysely<Database>({ dialect: new CauseKeepingSqliteDialect(sqlite, withStatementCache(sqlite)) });
  await migrate(db);
  try {
    const moved = moveTelemetryOut(sqlite);
    if (moved > 0) onNotice?.(`readings moved from care.db into ${TELEMETRY_FILE}`, { rows: moved });
  } catch (err) {
    // A full disk (the copy needs room for a second copy of the readings), a damaged file: the
    // readings stay in care.db, where every query still finds them first, and the move is tried
    // again at the next start (rows already copied are skipped). Never a reason not to start.
    onNotice?.(`readings could not be moved into ${TELEMETRY_FILE}; they stay in care.db until the next start`, {
      err: (err as Error).message,
    });
  }
  const wal = createWalSync(`${path.join(dataDir, 'care.db')}-wal`);
  return {
    db,
    sqlite,
    engine: 'sqlite',
    durable: wal.durable,
    close: async () => {
      await wal.close();
      await db.destroy();
    },
  };
}

/** Telemetry's own SQLite file next to `care.db`, attached to every connection as `telemetry_db`. */
export const TELEMETRY_FILE = 'telemetry.db';
const TELEMETRY_SCHEMA = 'telemetry_db';
/** WAL pages (4 KiB) past which the main connection checkpoints by itself: 16 MiB. */
export const CHECKPOINT_FALLBACK_PAGES = 4096;

/**
 * Attaches the telemetry file. Unqualified `telemetry` in any query finds the table there (SQLite
 * looks in `main`, then in attached schemas), so charts, the privacy export and erasure read and
 * write it unchanged. A transaction that writes only readings takes that file's write lock, never
 * the state's: the telemetry worker's 500-row inserts no longer hold an alarm's COMMIT (measured
 * 80-105 ms waits in SQLite's busy handler, on the event loop; docs/decisions.md).
 */
export function attachTelemetry(sqlite: SQLite.Database, dataDir: string): void {
  sqlite.prepare(`ATTACH DATABASE ? AS ${TELEMETRY_SCHEMA}`).run(path.join(dataDir, TELEMETRY_FILE));
  sqlite.pragma(`${TELEMETRY_SCHEMA}.journal_mode = WAL`);
  sqlite.pragma(`${TELEMETRY_SCHEMA}.synchronous = NORMAL`);
}

/**
 * Another connection to the same state, for a worker thread: `care.db` (created and migrated by
 * `openDatabase` on the main thread) with the telemetry file attached.
 */
export function openSideConnection(dataDir: string): SQLite.Database {
  const sqlite = new SQLite(path.join(dataDir, 'care.db'), { fileMustExist: true });
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('busy_timeout = 5000');
  attachTelemetry(sqlite, dataDir);
  return sqlite;
}

/**
 * A `telemetry` table in `care.db` (a database from before the split, a restored backup, or the
 * first migration on a new one) moves into the telemetry file: same definition and indexes, rows
 * copied with their rowids (pruning goes in rowid order), then dropped from `care.db`. The copy is
 * `INSERT OR IGNORE` on rowid, so a move cut short by a crash is finished at the next start
 * without duplicates.
 */
export function moveTelemetryOut(sqlite: SQLite.Database): number {
  const table = sqlite.prepare("SELECT sql FROM main.sqlite_master WHERE type = 'table' AND name = 'telemetry'").get() as
    | { sql: string }
    | undefined;
  if (!table) return 0;
  const there = sqlite.prepare(`SELECT 1 FROM ${TELEMETRY_SCHEMA}.sqlite_master WHERE type = 'table' AND name = 'telemetry'`).get();
  if (!there) {
    const indexes = sqlite
      .prepare("SELECT sql FROM main.sqlite_master WHERE type = 'index' AND tbl_name = 'telemetry' AND sql IS NOT NULL")
      .all() as Array<{ sql: string }>;
    sqlite.transaction(() => {
      sqlite.exec(table.sql.replace(/^CREATE TABLE\s+/i, `CREATE TABLE ${TELEMETRY_SCHEMA}.`));
      for (const i of indexes) sqlite.exec(i.sql.replace(/^CREATE (UNIQUE )?INDEX\s+/i, `CREATE $1INDEX ${TELEMETRY_SCHEMA}.`));
    })();
  }
  const columns = (sqlite.prepare('SELECT name FROM pragma_table_info(?, ?)').all('telemetry', 'main') as Array<{ name: string }>)
    .map((c) => `"${c.name}"`)
    .join(', ');
  const moved = sqlite
    .prepare(`INSERT OR IGNORE INTO ${TELEMETRY_SCHEMA}.telemetry (rowid, ${columns}) SELECT rowid, ${columns} FROM main.telemetry`)
    .run().changes;
  sqlite.exec('DROP TABLE main.telemetry');
  return moved;
}

/**
 * Runs a passive checkpoint of `care.db`'s WAL every `ms` on this thread's connection (the
 * telemetry worker's): it copies committed pages into the database and fsyncs it without taking
 * the write lock, so the alarm writer on the main thread goes on meanwhile. Returns a stop function.
 */
export function checkpointEvery(sqlite: SQLite.Database, ms: number, onError: (err: Error) => void): () => void {
  const timer = setInterval(() => {
    try {
      sqlite.pragma('main.wal_checkpoint(PASSIVE)');
    } catch (err) {
      onError(err as Error);
    }
  }, ms);
  timer.unref();
  return () => clearInterval(timer);
}

/**
 * Group commit for SQLite in WAL mode: `durable()` resolves after an fsync of the WAL that began
 * after the call, so every commit made before the call is on disk. Calls that arrive while an
 * fsync runs share the next one: one fsync for a burst, never one per commit. The fsync runs on
 * libuv's thread pool, so the event loop never waits for the disk. A checkpoint copies the WAL into
 * the database and fsyncs both itself (SQLite does that even at `synchronous=NORMAL`), so frames
 * moved out of the WAL before our fsync are durable too.
 */
export function createWalSync(walPath: string, fsyncFile?: () => Promise<void>) {
  let handle: fs.promises.FileHandle | null = null;
  let running: Promise<void> | null = null;
  let next: Promise<void> | null = null;
  const syncOnce =
    fsyncFile ??
    (async () => {
      handle ??= await fs.promises.open(walPath, 'r+');
      await handle.sync();
    });
  const start = (): Promise<void> => {
    const p = syncOnce().finally(() => {
      if (running === p) running = null;
    });
    running = p;
    return p;
  };
  return {
    durable(): Promise<void> {
      if (!running) return start();
      // The running fsync may have begun before this caller's commit: wait for one more.
      next ??= running
        .catch(() => undefined)
        .then(() => {
          next = null;
          return start();
        });
      return next;
    },
    async close() {
      await Promise.allSettled([running, next]);
      await handle?.close();
      handle = null;
    },
  };
}

/**
 * SQLite rolls a transaction back by itself on some errors (SQLITE_FULL, SQLITE_IOERR, SQLITE_BUSY,
 * SQLITE_NOMEM). Kysely then issues ROLLBACK anyway, which throws "cannot rollback - no transaction
 * is active" and replaces the real error: a full disk was logged as that. Rolling back only a
 * transaction that is still open keeps the cause.
 */
class CauseKeepingSqliteDialect extends SqliteDialect {
  constructor(
    private readonly raw: SQLite.Database,
    database: SQLite.Database,
  ) {
    super({ database });
  }
  override createDriver(): Driver {
    const driver = super.createDriver();
    const rollback = driver.rollbackTransaction.bind(driver);
    driver.rollbackTransaction = async (connection) => {
      if (this.raw.inTransaction) await rollback(connection);
    };
    return driver;
  }
}

/**
 * Kysely's SQLite driver prepares every query afresh, which profiling showed costs a fifth of the
 * server's CPU under load. The same few hundred SQL strings recur, so prepared statements are kept
 * (bounded, oldest evicted). Safe because the driver runs each statement to completion at once.
 */
export function withStatementCache(sqlite: SQLite.Database, max = 500): SQLite.Database {
  const cache = new Map<string, SQLite.Statement>();
  const prepare = sqlite.prepare.bind(sqlite);
  return new Proxy(sqlite, {
    get(target, prop, receiver) {
      if (prop !== 'prepare') {
        const value = Reflect.get(target, prop, receiver);
        // Native methods must be called on the real handle, not the proxy.
        return typeof value === 'function' ? value.bind(target) : value;
      }
      return (sql: string) => {
        let stmt = cache.get(sql);
        if (stmt) {
          cache.delete(sql);
        } else {
          stmt = prepare(sql);
          if (cache.size >= max) cache.delete(cache.keys().next().value as string);
        }
        cache.set(sql, stmt);
        return stmt;
      };
    },
  });
}

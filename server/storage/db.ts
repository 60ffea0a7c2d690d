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

export async function openDatabase(dataDir: string, databaseUrl?: string, onPoolError?: (err: Error) => void): Promise<OpenedDatabase> {
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
  const db = new Kysely<Database>({ dialect: new CauseKeepingSqliteDialect(sqlite, withStatementCache(sqlite)) });
  await migrate(db);
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

// A real SQLite database in memory with every migration applied, for unit tests of storage code,
// and the real alarm engine on it.
import SQLite from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect } from 'kysely';
import pino from 'pino';
import { ulidSource } from '../../protocol/index.ts';
import { type AlarmEngine, createAlarmEngine } from '../../server/alarms/engine.ts';
import { loadPolicies } from '../../server/alarms/policies.ts';
import { createAlarmStore } from '../../server/storage/alarms.ts';
import { migrationProvider } from '../../server/storage/migrations.ts';
import type { Database } from '../../server/storage/tables.ts';

export async function migratedMemoryDb(sqlite = new SQLite(':memory:')): Promise<Kysely<Database>> {
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
  const migrated = await new Migrator({ db, provider: migrationProvider }).migrateToLatest();
  if (migrated.error) throw migrated.error;
  return db;
}

/** The real alarm engine on such a database, with the escalation policies read from it and no listeners. */
export async function memoryEngine(db: Kysely<Database>, now: () => string): Promise<AlarmEngine> {
  return createAlarmEngine({
    db,
    alarms: createAlarmStore(db),
    ids: ulidSource(),
    now,
    log: pino({ level: 'silent' }),
    policies: await loadPolicies(db),
    onChange: () => {},
  });
}

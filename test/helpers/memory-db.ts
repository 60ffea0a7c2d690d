// A real SQLite database in memory with every migration applied, for unit tests of storage code.
import SQLite from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect } from 'kysely';
import { migrationProvider } from '../../server/storage/migrations.ts';
import type { Database } from '../../server/storage/tables.ts';

export async function migratedMemoryDb(sqlite = new SQLite(':memory:')): Promise<Kysely<Database>> {
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
  const migrated = await new Migrator({ db, provider: migrationProvider }).migrateToLatest();
  if (migrated.error) throw migrated.error;
  return db;
}

// The bulkhead between events of one batch (server/ingest/event-isolation.ts): a savepoint undoes
// only the failed event's writes, and the poison policy refuses what would fail forever. A real
// SQLite database through Kysely, as in the server.
import SQLite from 'better-sqlite3';
import { Kysely, SqliteDialect, sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { createPoisonPolicy, inSavepoint, mayBeTransient } from '../../server/ingest/event-isolation.ts';
import type { Db } from '../../server/storage/registry.ts';

let db: Kysely<{ t: { v: string } }> | null = null;
afterEach(async () => {
  await db?.destroy();
  db = null;
});

describe('inSavepoint', () => {
  it('undoes only the failed work; the transaction commits the rest', async () => {
    db = new Kysely({ dialect: new SqliteDialect({ database: new SQLite(':memory:') }) });
    await sql`create table t (v text not null)`.execute(db);
    const results = await db.transaction().execute(async (tx) => {
      const t = tx as unknown as Db;
      const ok1 = await inSavepoint(t, () => sql`insert into t values ('before')`.execute(tx));
      const bad = await inSavepoint(t, async () => {
        await sql`insert into t values ('poison')`.execute(tx);
        throw new RangeError('Maximum call stack size exceeded');
      });
      const badSql = await inSavepoint(t, () => sql`insert into t values (null)`.execute(tx));
      const ok2 = await inSavepoint(t, () => sql`insert into t values ('after')`.execute(tx));
      return [ok1.ok, bad.ok, badSql.ok, ok2.ok, !bad.ok && bad.err, !badSql.ok && badSql.err];
    });
    expect(results.slice(0, 4)).toEqual([true, false, false, true]);
    expect(results[4]).toBeInstanceOf(RangeError);
    expect(mayBeTransient(results[4])).toBe(false);
    expect(mayBeTransient(results[5])).toBe(true); // SqliteError carries a code
    const rows = await sql<{ v: string }>`select v from t order by rowid`.execute(db);
    expect(rows.rows.map((r) => r.v)).toEqual(['before', 'after']);
  });

  it('throws the error that lost the transaction, not the failed savepoint rollback', async () => {
    db = new Kysely({ dialect: new SqliteDialect({ database: new SQLite(':memory:') }) });
    await sql`create table t (v text not null)`.execute(db);
    const full = Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
    let thrown: unknown = null;
    await db
      .transaction()
      .execute(async (tx) => {
        const t = tx as unknown as Db;
        await inSavepoint(t, async () => {
          // As SQLite does on some SQLITE_FULL/IOERR: the whole transaction, savepoint and all, is gone.
          await sql`rollback`.execute(tx);
          throw full;
        }).catch((err: unknown) => {
          thrown = err;
        });
      })
      .catch(() => undefined); // the plain dialect's own ROLLBACK fails too (server/storage/db.ts guards it)
    const outcome = thrown;
    expect(outcome).toBe(full);
  });
});

describe('poison policy', () => {
  it('refuses an error of our own code at once', () => {
    const p = createPoisonPolicy();
    expect(p.verdict('gw-1', 'e1', new TypeError('x'))).toBe('reject');
    expect(p.tracked).toBe(0);
  });

  it('lets a database error be resent twice, refuses it the third time, and counts per gateway', () => {
    const p = createPoisonPolicy({ maxAttempts: 3 });
    const busy = Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' });
    expect(p.verdict('gw-1', 'e1', busy)).toBe('resend');
    expect(p.verdict('gw-2', 'e1', busy)).toBe('resend'); // another gateway's e1 is another event
    expect(p.verdict('gw-1', 'e1', busy)).toBe('resend');
    expect(p.verdict('gw-1', 'e1', busy)).toBe('reject');
    expect(p.tracked).toBe(1);
    p.passed('gw-2', 'e1');
    expect(p.tracked).toBe(0);
  });

  it('remembers a bounded number of events', () => {
    const p = createPoisonPolicy({ maxTracked: 100 });
    const err = { code: '40001' };
    for (let i = 0; i < 1000; i += 1) p.verdict('gw-1', `e${i}`, err);
    expect(p.tracked).toBe(100);
  });
});

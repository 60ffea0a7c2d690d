// Query plans on the alarm lane. The sweeps (escalation, bed-exit upgrade) run every second on the event loop. Each
// must read only the alarms that are due, through an index that leads with state and the due time:
// with an index on the due time alone, SQLite chose `alarms_state` for `state = 'active'` and read
// every open alarm (7-9 ms a sweep with 16,000 open, in the bench). Checked on the SQL the engine
// actually runs, captured from the real SQLite connection and explained there.
import SQLite from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { describe, expect, it } from 'vitest';
import { createAlarmStore } from '../../server/storage/alarms.ts';
import type { Database } from '../../server/storage/tables.ts';
import { memoryEngine, migratedMemoryDb } from '../helpers/memory-db.ts';

describe('sweep query plans', () => {
  it('escalation and upgrade sweeps search by state and due time, never every open alarm', async () => {
    const seen: string[] = [];
    const sqlite = new SQLite(':memory:', { verbose: (sql) => seen.push(String(sql)) });
    const db = await migratedMemoryDb(sqlite);
    const engine = await memoryEngine(db, () => '2026-12-02T12:00:00.000Z');
    seen.length = 0;
    await engine.escalateDue();
    await engine.upgradeDue();
    // better-sqlite3 hands `verbose` the SQL with its values in place.
    const sweeps = seen.filter((s) =>
      /^select .* from "alarms" where "state" = 'active' and "(next_escalation_at|upgrade_at)" <= '/.test(s),
    );
    expect(sweeps).toHaveLength(2);
    for (const sql of sweeps) {
      const plan = (sqlite.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as Array<{ detail: string }>).map((r) => r.detail).join(' | ');
      expect(plan, sql).toMatch(/USING INDEX \w+ \(state=\? AND (next_escalation_at|upgrade_at)<\?\)/);
    }
    await db.destroy();
  });

  it("the open-alarm lookup by cause, once per event, names 'resolved' in its SQL instead of binding it", async () => {
    // Bound, SQLite can use the partial unique index (WHERE state <> 'resolved') only by preparing
    // the statement again at every call: 39 us instead of 5.7 us with 22,000 alarms.
    const queries: Array<{ sql: string; parameters: readonly unknown[] }> = [];
    const fresh = new SQLite(':memory:');
    const db = await migratedMemoryDb(fresh);
    const store = createAlarmStore(db);
    const spy = new Kysely<Database>({
      dialect: new SqliteDialect({ database: fresh }),
      log: (e) => {
        queries.push({ sql: e.query.sql, parameters: e.query.parameters });
      },
    });
    await store.findOpenByCause(spy, 'call:btn-1');
    expect(queries).toHaveLength(1);
    const [q] = queries;
    expect(q?.sql).toMatch(/"state" <> 'resolved'/);
    expect(q?.parameters).toEqual(['call:btn-1']);
    const plan = (fresh.prepare(`EXPLAIN QUERY PLAN ${q?.sql}`).all('call:btn-1') as Array<{ detail: string }>).map((r) => r.detail).join();
    expect(plan).toMatch(/USING INDEX alarms_open_cause/);
    await db.destroy();
  });
});

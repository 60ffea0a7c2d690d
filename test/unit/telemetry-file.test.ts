// Readings in their own SQLite file (telemetry.db, attached as `telemetry_db`): the telemetry
// worker's write transactions take that file's lock, never the state's, so an alarm's commit on the
// main thread never waits in SQLite's busy handler (which sleeps on the event loop) behind them.
// Real files, real connections; the "worker" is a second connection opened as the worker opens it.
import fs from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import {
  checkpointEvery,
  moveTelemetryOut,
  type OpenedDatabase,
  openDatabase,
  openSideConnection,
  TELEMETRY_FILE,
} from '../../server/storage/db.ts';
import { tempDir, waitFor } from '../helpers/harness.ts';

const open: Array<{ close(): unknown }> = [];
afterEach(async () => {
  for (const c of open.splice(0).reverse()) await c.close();
});
async function state(dir = tempDir()): Promise<{ dir: string; opened: OpenedDatabase }> {
  const opened = await openDatabase(dir);
  open.push(opened);
  return { dir, opened };
}
function side(dir: string): SQLite.Database {
  const c = openSideConnection(dir);
  open.push(c);
  return c;
}
const tables = (db: SQLite.Database, schema: string) =>
  (db.prepare(`SELECT name FROM ${schema}.sqlite_master WHERE type = 'table' ORDER BY name`).all() as Array<{ name: string }>).map(
    (r) => r.name,
  );

/** care.db as it was before the split: the readings (these values, one a row) in a table of its own. */
function oldCareDb(dir: string, values: number[]): SQLite.Database {
  const old = new SQLite(path.join(dir, 'care.db'));
  old.exec(
    'CREATE TABLE telemetry (site_id text not null, device_id text not null, resident_id text, metric text not null, value real not null, ts text not null)',
  );
  const insert = old.prepare("INSERT INTO telemetry VALUES ('s', 'd', 'r', 'spo2', ?, '2026-12-01T00:00:00.000Z')");
  old.transaction(() => {
    for (const v of values) insert.run(v);
  })();
  return old;
}

describe('telemetry in its own file', () => {
  it('a new database keeps no readings table in care.db; queries find it in telemetry.db', async () => {
    const { dir, opened } = await state();
    expect(fs.existsSync(path.join(dir, TELEMETRY_FILE))).toBe(true);
    const raw = opened.sqlite as SQLite.Database;
    expect(tables(raw, 'main')).not.toContain('telemetry');
    expect(tables(raw, 'telemetry_db')).toEqual(['telemetry']);
    await opened.db
      .insertInto('telemetry')
      .values({ site_id: 's', device_id: 'd', resident_id: 'r', metric: 'heart_rate', value: 61, ts: '2026-12-02T10:00:00.000Z' })
      .execute();
    const file = new SQLite(path.join(dir, TELEMETRY_FILE), { readonly: true });
    open.push(file);
    expect(file.prepare('SELECT value FROM telemetry').all()).toEqual([{ value: 61 }]);
    // The index that charts use came along.
    expect(file.prepare("SELECT name FROM sqlite_master WHERE type = 'index'").all()).toEqual([{ name: 'telemetry_resident_metric_ts' }]);
  });

  it('an alarm commit goes through while the worker holds a readings transaction open (with both in care.db it was refused as locked)', async () => {
    const { dir, opened } = await state();
    const worker = side(dir);
    worker.exec('BEGIN');
    worker
      .prepare("INSERT INTO telemetry (site_id, device_id, resident_id, metric, value, ts) VALUES ('s', 'd', 'r', 'spo2', 97, ?)")
      .run(new Date().toISOString());
    // The state connection never waits on the readings' lock: no busy wait, no SQLITE_BUSY.
    (opened.sqlite as SQLite.Database).pragma('busy_timeout = 0');
    await opened.db.transaction().execute(async (tx) => {
      await tx
        .insertInto('audit')
        .values({ at: new Date().toISOString(), actor: 'test', action: 'raised', alarm_id: null, subject: null, detail: null })
        .execute();
    });
    worker.exec('COMMIT');
    const n = await opened.db
      .selectFrom('telemetry')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    expect(Number(n.n)).toBe(1);
  });

  it('moves the readings of a database from before the split, with their indexes, once, and finishes a move cut short', async () => {
    const dir = tempDir();
    // A care.db as it was: the readings in a table of its own.
    {
      const { opened } = await state(dir);
      await opened.close();
      open.length = 0;
      const old = oldCareDb(
        dir,
        Array.from({ length: 1000 }, (_, i) => i),
      );
      old.exec('CREATE INDEX telemetry_resident_metric_ts ON telemetry (resident_id, metric, ts)');
      old.close();
      fs.rmSync(path.join(dir, TELEMETRY_FILE));
    }
    // A move cut short: half the rows already copied, care.db's table not yet dropped.
    {
      const c = new SQLite(path.join(dir, 'care.db'));
      c.prepare('ATTACH DATABASE ? AS telemetry_db').run(path.join(dir, TELEMETRY_FILE));
      c.exec(
        'CREATE TABLE telemetry_db.telemetry (site_id text not null, device_id text not null, resident_id text, metric text not null, value real not null, ts text not null)',
      );
      c.exec(
        'INSERT INTO telemetry_db.telemetry (rowid, site_id, device_id, resident_id, metric, value, ts) SELECT rowid, * FROM main.telemetry WHERE rowid <= 500',
      );
      c.close();
    }
    const { opened } = await state(dir);
    const raw = opened.sqlite as SQLite.Database;
    expect(tables(raw, 'main')).not.toContain('telemetry');
    const rows = await opened.db.selectFrom('telemetry').select(['value']).orderBy('value').execute();
    expect(rows.map((r) => r.value)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(moveTelemetryOut(raw)).toBe(0);
  });

  it('the worker checkpoints care.db, and the main connection does not on an ordinary commit', async () => {
    const { dir, opened } = await state();
    const raw = opened.sqlite as SQLite.Database;
    const dbFile = path.join(dir, 'care.db');
    const before = fs.statSync(dbFile).size;
    // About 1,200 pages of audit rows: past SQLite's default auto-checkpoint (1,000 pages).
    const detail = 'x'.repeat(3000);
    for (let b = 0; b < 12; b += 1) {
      await opened.db.transaction().execute(async (tx) => {
        for (let i = 0; i < 100; i += 1)
          await tx
            .insertInto('audit')
            .values({ at: new Date().toISOString(), actor: 't', action: 'x', alarm_id: null, subject: null, detail })
            .execute();
      });
    }
    // Nothing copied into care.db by the commits themselves (they used to checkpoint past 1,000 pages).
    expect(fs.statSync(dbFile).size).toBe(before);
    expect(raw.pragma('wal_autocheckpoint', { simple: true })).toBeGreaterThan(1000);
    const stop = checkpointEvery(side(dir), 20, (err) => {
      throw err;
    });
    await waitFor(() => fs.statSync(dbFile).size > before + 3_000_000, 'care.db checkpointed by the side connection', 10_000);
    stop();
  });

  it('a move that fails (here a readings file holding an odd table) leaves the readings in care.db, says so, and the server starts', async () => {
    const dir = tempDir();
    {
      const { opened } = await state(dir);
      await opened.close();
      open.length = 0;
      oldCareDb(dir, [97]).close();
      // A readings file whose table lacks a column the copy needs (a damaged or foreign file).
      const odd = new SQLite(path.join(dir, TELEMETRY_FILE));
      odd.exec('DROP TABLE telemetry');
      odd.exec('CREATE TABLE telemetry (site_id text)');
      odd.close();
    }
    const notices: string[] = [];
    const opened = await openDatabase(dir, undefined, undefined, (message) => notices.push(message));
    open.push(opened);
    expect(notices).toEqual([expect.stringMatching(/could not be moved/)]);
    // Still found, still written: care.db's table comes first.
    await opened.db
      .insertInto('telemetry')
      .values({ site_id: 's', device_id: 'd', resident_id: 'r', metric: 'spo2', value: 96, ts: '2026-12-01T00:01:00.000Z' })
      .execute();
    const rows = await opened.db.selectFrom('telemetry').select('value').orderBy('ts').execute();
    expect(rows.map((r) => r.value)).toEqual([97, 96]);
  });
});

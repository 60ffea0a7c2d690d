// The compiled-once inserts of the alarm path (server/storage/insert-cache.ts) on a real SQLite
// database: same rows as Kysely's own path, and rows it must not reuse SQL for take that path.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendAudit } from '../../server/storage/alarms.ts';
import { type OpenedDatabase, openDatabase } from '../../server/storage/db.ts';
import { insertEventIfNew } from '../../server/storage/events.ts';
import { cachedInsert, compiledOnce } from '../../server/storage/insert-cache.ts';
import { tempDir } from '../helpers/harness.ts';

let opened: OpenedDatabase;
beforeAll(async () => {
  opened = await openDatabase(path.join(tempDir('care-insert-cache-')));
});
afterAll(async () => {
  await opened.close();
});

describe('compiled-once inserts', () => {
  it('stores each event once and tells a first delivery from a repeat', async () => {
    const db = opened.db;
    const e = (id: string) => ({ v: 1 as const, id, seq: 1, ts: '2026-12-02T10:00:00.000Z', device: 'btn-1', type: 'call' as const });
    const at = { siteId: 'site-1', gatewayId: 'gw-1' };
    expect(await insertEventIfNew(db, e('a'), at, '2026-12-02T10:00:01.000Z')).toBe(true);
    expect(await insertEventIfNew(db, e('b'), at, '2026-12-02T10:00:01.000Z')).toBe(true);
    expect(await insertEventIfNew(db, e('a'), at, '2026-12-02T10:00:02.000Z')).toBe(false);
    expect(await insertEventIfNew(db, e('a'), { ...at, gatewayId: 'gw-2' }, '2026-12-02T10:00:02.000Z')).toBe(true);
    const rows = await db.selectFrom('events').select(['id', 'gateway_id', 'received_at']).orderBy('gateway_id').orderBy('id').execute();
    expect(rows).toEqual([
      { id: 'a', gateway_id: 'gw-1', received_at: '2026-12-02T10:00:01.000Z' },
      { id: 'b', gateway_id: 'gw-1', received_at: '2026-12-02T10:00:01.000Z' },
      { id: 'a', gateway_id: 'gw-2', received_at: '2026-12-02T10:00:02.000Z' },
    ]);
  });

  it('writes every column of later rows from their own values', async () => {
    const db = opened.db;
    for (const n of [1, 2, 3]) {
      await appendAudit(db, { at: `2026-12-02T10:00:0${n}.000Z`, actor: `a${n}`, action: 'raised', alarmId: `al-${n}`, detail: { n } });
    }
    await appendAudit(db, { at: '2026-12-02T10:00:04.000Z', actor: 'a4', action: 'note', subject: 's4' });
    const rows = await db.selectFrom('audit').select(['actor', 'alarm_id', 'subject', 'detail']).orderBy('id').execute();
    expect(rows.slice(-4)).toEqual([
      { actor: 'a1', alarm_id: 'al-1', subject: null, detail: '{"n":1}' },
      { actor: 'a2', alarm_id: 'al-2', subject: null, detail: '{"n":2}' },
      { actor: 'a3', alarm_id: 'al-3', subject: null, detail: '{"n":3}' },
      { actor: 'a4', alarm_id: null, subject: 's4', detail: null },
    ]);
  });

  it("leaves a column out when its value is undefined, as Kysely does, even after that shape's SQL is cached", async () => {
    const db = opened.db;
    const insert = cachedInsert((d, row: { at: string; actor: string; action: string; subject?: string | null }) =>
      d.insertInto('audit').values(row),
    );
    await insert(db, { at: '2026-12-02T11:00:00.000Z', actor: 'x1', action: 'a', subject: 'kept' });
    await insert(db, { at: '2026-12-02T11:00:01.000Z', actor: 'x2', action: 'a', subject: undefined });
    const rows = await db.selectFrom('audit').select(['actor', 'subject']).where('actor', 'in', ['x1', 'x2']).orderBy('id').execute();
    expect(rows).toEqual([
      { actor: 'x1', subject: 'kept' },
      { actor: 'x2', subject: null },
    ]);
  });

  it('compiledOnce builds a query once and runs later calls with their own values; a shape with other bound values takes Kysely each time', async () => {
    const db = opened.db;
    for (const [id, name] of [
      ['s-1', 'One'],
      ['s-2', 'Two'],
    ] as const)
      await db
        .insertInto('sites')
        .values({ id, name, kind: 'nursing_home', timezone: 'UTC', created_at: '2026-12-02T00:00:00.000Z' })
        .execute();
    let built = 0;
    const byId = compiledOnce((d: typeof db, p: { id: string }) => {
      built += 1;
      return d.selectFrom('sites').select(['id', 'name']).where('id', '=', p.id);
    });
    expect((await byId(db, { id: 's-1' })).rows).toEqual([{ id: 's-1', name: 'One' }]);
    expect((await byId(db, { id: 's-2' })).rows).toEqual([{ id: 's-2', name: 'Two' }]);
    expect((await byId(db, { id: 'none' })).rows).toEqual([]);
    expect(built).toBe(1);
    // Values in the order the SQL binds them, not the order they were named.
    const rename = compiledOnce((d: typeof db, p: { name: string; id: string }) =>
      d.updateTable('sites').set({ name: p.name }).where('id', '=', p.id),
    );
    await rename(db, { name: 'Uno', id: 's-1' });
    await rename(db, { id: 's-2', name: 'Dos' });
    expect(await db.selectFrom('sites').select(['id', 'name']).where('id', 'in', ['s-1', 's-2']).orderBy('id').execute()).toEqual([
      { id: 's-1', name: 'Uno' },
      { id: 's-2', name: 'Dos' },
    ]);
    // A limit is bound too, but is not one of the values: never cached, always right.
    let builtLimited = 0;
    const firstN = compiledOnce((d: typeof db, p: { kind: 'nursing_home' | 'family_bed' }) => {
      builtLimited += 1;
      return d.selectFrom('sites').select('id').where('kind', '=', p.kind).orderBy('id').limit(1);
    });
    expect((await firstN(db, { kind: 'nursing_home' })).rows).toEqual([{ id: 's-1' }]);
    expect((await firstN(db, { kind: 'family_bed' })).rows).toEqual([]);
    expect(builtLimited).toBe(3);
  });
});

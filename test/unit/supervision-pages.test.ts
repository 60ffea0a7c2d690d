// The supervision sweep reads every device to find the silent ones. One query over all of them
// (126-165 ms at the bench's 16,000 devices, in one synchronous better-sqlite3 call) held the event
// loop, and every alarm behind it, once per sweep. Here the sweep must read the devices in pages
// and give the event loop a turn between them, and still check the devices of every page: silent
// ones on the first and last page are flagged, ones heard again on a later page are cleared.
// Real SQLite (in memory, migrated), the real alarm engine and registry.
import SQLite from 'better-sqlite3';
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSupervision } from '../../server/alarms/supervision.ts';
import { createRegistry } from '../../server/storage/registry.ts';
import type { Database } from '../../server/storage/tables.ts';
import { FakeClock } from '../helpers/fake-clock.ts';
import { quietLogger } from '../helpers/harness.ts';
import { memoryEngine, migratedMemoryDb } from '../helpers/memory-db.ts';

const DEVICES = 3_000;
const clock = new FakeClock(Date.parse('2026-03-02T08:00:00.000Z'));
const now = () => clock.iso();
const ago = (ms: number) => new Date(clock.now() - ms).toISOString();
const MIN = 60_000;
const HOUR = 60 * MIN;
const id = (i: number) => `d-${String(i).padStart(4, '0')}`;
let db: Kysely<Database>;
/** The SQL run, with its values in place (better-sqlite3's `verbose`), from when the test says. */
let seen: string[] | undefined;
const sqlite = new SQLite(':memory:', { verbose: (sql) => seen?.push(String(sql)) });

beforeAll(async () => {
  db = await migratedMemoryDb(sqlite);
});
afterAll(async () => {
  await db?.destroy();
});

describe('supervision sweep over many devices', () => {
  it('reads the devices in pages, giving the event loop a turn between them, and checks every page', async () => {
    const registry = createRegistry(db);
    await registry.createSite({ id: 'site-p', name: 'P', kind: 'nursing_home', timezone: 'UTC' }, ago(48 * HOUR));
    await registry.createGateway({ id: 'gw-p', siteId: 'site-p', name: 'gw', secretHash: 'x' }, ago(48 * HOUR));
    for (let i = 0; i < DEVICES; i += 1) {
      await registry.createDevice({ id: id(i), gatewayId: 'gw-p', kind: 'call_button', residentId: null, room: null }, ago(48 * HOUR));
    }
    // The gateway is up and every device was heard a minute ago (a call button may be silent 24 h).
    sqlite.prepare("UPDATE gateways SET state = 'online', last_seen = ?").run(ago(MIN));
    sqlite.prepare('UPDATE devices SET last_seen = ?').run(ago(MIN));

    const engine = await memoryEngine(db, now);
    const supervision = createSupervision({ db, engine, now, log: quietLogger() });
    /** Sweeps; says whether a callback queued for the next turn of the event loop just after the sweep started ran before it ended. */
    const sweepGivesLoopATurn = async (onTurn = () => {}) => {
      let loopRan = false;
      const swept = supervision.sweep();
      setImmediate(() => {
        loopRan = true;
        onTurn();
      });
      await swept;
      return loopRan;
    };

    // The steady state (the bench's): nothing to flag or clear, no transaction at all; reading
    // the devices alone must give the loop a turn.
    seen = [];
    expect(await sweepGivesLoopATurn()).toBe(true);
    // Every page walks the devices' primary key from the cursor: none sorts all devices anew.
    // (`verbose` writes the limit as 250.0.)
    const pages = seen.filter((sql) => /^select .* from "devices" .* order by "devices"\."id" limit 250(\.0)?$/.test(sql));
    seen = undefined;
    expect(pages.length).toBeGreaterThanOrEqual(DEVICES / 250);
    for (const sql of pages) {
      const plan = (sqlite.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as Array<{ detail: string }>).map((r) => r.detail).join(' | ');
      expect(plan, sql).toMatch(/^(SCAN|SEARCH) devices USING INDEX sqlite_autoindex_devices_1/);
      expect(plan, sql).not.toMatch(/TEMP B-TREE/);
    }
    expect(sqlite.prepare('SELECT count(*) AS n FROM devices WHERE offline_since IS NOT NULL').get()).toEqual({ n: 0 });

    // Now one silent device on the first page and one on the last,
    const setDevice = sqlite.prepare('UPDATE devices SET last_seen = ?, offline_since = ? WHERE id = ?');
    setDevice.run(ago(25 * HOUR), null, id(0));
    setDevice.run(ago(25 * HOUR), null, id(DEVICES - 1));
    // two flagged offline and heard since (by telemetry), in the middle and on the last page,
    setDevice.run(ago(MIN), ago(2 * HOUR), id(1500));
    setDevice.run(ago(MIN), ago(2 * HOUR), id(DEVICES - 2));
    // and one flagged offline and not heard since.
    setDevice.run(ago(2 * HOUR), ago(MIN), id(DEVICES - 3));

    const offlineSince = (i: number) =>
      (sqlite.prepare('SELECT offline_since FROM devices WHERE id = ?').get(id(i)) as { offline_since: string | null }).offline_since;

    // The loop's turn comes before the last page's silent device is flagged (looked at synchronously).
    let lastPageFlaggedWhenLoopRan: string | null = 'not looked at';
    expect(
      await sweepGivesLoopATurn(() => {
        lastPageFlaggedWhenLoopRan = offlineSince(DEVICES - 1);
      }),
    ).toBe(true);
    expect(lastPageFlaggedWhenLoopRan).toBeNull();

    const offline = sqlite.prepare('SELECT id, offline_since FROM devices WHERE offline_since IS NOT NULL ORDER BY id').all();
    expect(offline).toEqual([
      { id: id(0), offline_since: ago(25 * HOUR) },
      { id: id(DEVICES - 3), offline_since: ago(MIN) },
      { id: id(DEVICES - 1), offline_since: ago(25 * HOUR) },
    ]);
    const openAlarms = () =>
      sqlite.prepare("SELECT device_id, type FROM alarms WHERE state <> 'resolved' ORDER BY device_id").all() as Array<{
        device_id: string;
        type: string;
      }>;
    expect(openAlarms()).toEqual([
      { device_id: id(0), type: 'device_offline' },
      { device_id: id(DEVICES - 1), type: 'device_offline' },
    ]);

    // Another instance sweeping the same database raises nothing again (compare-and-set).
    await createSupervision({ db, engine, now, log: quietLogger() }).sweep();
    expect(openAlarms()).toHaveLength(2);
  });
});

// The supervision sweep writes the last-seen time of every device heard since the last sweep. A
// site's thousands of devices were one write each, back to back on microtasks, holding the event
// loop (every alarm, screen and MQTT read behind it) for the whole write. Here the sweep must let
// the event loop run while it writes, and still write every device's time. Real SQLite (in memory,
// migrated), the real alarm engine and registry.
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
let db: Kysely<Database>;
const sqlite = new SQLite(':memory:');

beforeAll(async () => {
  db = await migratedMemoryDb(sqlite);
});
afterAll(async () => {
  await db?.destroy();
});

describe('supervision sweep', () => {
  it("writes every heard device's last-seen time without holding the event loop for all of them", async () => {
    const registry = createRegistry(db);
    await registry.createSite({ id: 'site-s', name: 'S', kind: 'nursing_home', timezone: 'UTC' }, now());
    await registry.createGateway({ id: 'gw-s', siteId: 'site-s', name: 'gw', secretHash: 'x' }, now());
    for (let i = 0; i < DEVICES; i += 1) {
      await registry.createDevice({ id: `d-${i}`, gatewayId: 'gw-s', kind: 'call_button', residentId: null, room: null }, now());
    }
    const engine = await memoryEngine(db, now);
    const supervision = createSupervision({ db, engine, now, log: quietLogger() });
    const heardAt = '2026-03-02T07:59:00.000Z';
    for (let i = 0; i < DEVICES; i += 1) supervision.heardDevice(`d-${i}`, heardAt);
    // A callback queued for the next turn of the event loop runs while the sweep writes only if
    // the sweep gives the loop a turn: it counts the devices written by then (synchronously).
    const writtenCount = () => (sqlite.prepare('SELECT count(*) AS n FROM devices WHERE last_seen IS NOT NULL').get() as { n: number }).n;
    let writtenWhenLoopRan = -1;
    setImmediate(() => {
      writtenWhenLoopRan = writtenCount();
    });
    await supervision.sweep();
    expect(writtenWhenLoopRan).toBeGreaterThan(0);
    expect(writtenWhenLoopRan).toBeLessThan(DEVICES);
    expect(writtenCount()).toBe(DEVICES);
    const times = await db.selectFrom('devices').select('last_seen').distinct().execute();
    expect(times).toEqual([{ last_seen: heardAt }]);
  });
});

// The daily-living watch's observation queue stays bounded (commit f506b01): while the recorder is
// held up, more non-movement observations than the bound (10,000) arrive; the queue keeps at most
// the bound, and once the recorder goes on, a later movement is recorded and the no-movement rule
// still raises its welfare check. Real SQLite (in memory, migrated), the real alarm engine and
// registry; the only stand-in is the lookup that holds the recorder up (a gate on getResident).
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ActivityObservation, createDailyLivingWatch } from '../../server/alarms/daily-living-watch.ts';
import { createRegistry } from '../../server/storage/registry.ts';
import type { Database } from '../../server/storage/tables.ts';
import { FakeClock } from '../helpers/fake-clock.ts';
import { quietLogger } from '../helpers/harness.ts';
import { memoryEngine, migratedMemoryDb } from '../helpers/memory-db.ts';

const BOUND = 10_000;
const clock = new FakeClock(Date.parse('2026-03-02T08:00:00.000Z'));
const now = () => clock.iso();
let db: Kysely<Database>;

beforeAll(async () => {
  db = await migratedMemoryDb();
});
afterAll(async () => {
  await db?.destroy();
});

describe('daily-living watch: pending observation queue', () => {
  it('keeps at most the bound when nothing waiting is movement, and the rules still work after', async () => {
    const registry = createRegistry(db);
    await registry.createSite({ id: 'site-q', name: 'Q', kind: 'nursing_home', timezone: 'UTC' }, now());
    await registry.createResident({ id: 'res-q', siteId: 'site-q', name: 'Q', room: '101', bed: null, settings: {} }, now());
    await registry.createGateway({ id: 'gw-q', siteId: 'site-q', name: 'gw', secretHash: 'x' }, now());
    await registry.createDevice(
      { id: 'pir-q', gatewayId: 'gw-q', kind: 'presence_sensor', residentId: 'res-q', room: 'living room' },
      now(),
    );
    const engine = await memoryEngine(db, now);
    // The recorder looks the resident up once per observation: count them, and hold the first.
    let lookups = 0;
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const watch = createDailyLivingWatch({
      db,
      engine,
      now,
      log: quietLogger(),
      defaultTimezone: 'UTC',
      lookups: {
        getResident: async (id) => {
          lookups += 1;
          if (lookups === 1) await gate;
          return registry.getResident(id);
        },
        getSite: (id) => registry.getSite(id),
      },
    });
    const obs = (at: string, kind: ActivityObservation['kind'], residentId = 'res-q'): ActivityObservation => ({
      residentId,
      deviceId: 'pir-q',
      room: 'living room',
      at,
      kind,
    });
    void watch.observe([obs(clock.iso(), 'motion')]);
    await new Promise((r) => setTimeout(r, 20));
    expect(lookups).toBe(1);
    // Three batches of 6,000 "nobody here" readings while the recorder is held: 18,000 in all
    // (for a resident since erased, so each costs the recorder one lookup and nothing more).
    for (let b = 0; b < 3; b += 1) {
      void watch.observe(Array.from({ length: 6000 }, () => obs(clock.iso(), 'absent', 'res-erased')));
    }
    release();
    // A callback for the next turn of the event loop: it runs while the recorder works through the
    // backlog only if the recorder gives the loop turns (server/time-slice.ts).
    let lookupsWhenLoopRan = -1;
    setImmediate(() => {
      lookupsWhenLoopRan = lookups;
    });
    await watch.idle();
    // The held one, then at most the bound of what waited (without the fix: all 18,000).
    expect(lookups - 1).toBeLessThanOrEqual(BOUND);
    expect(lookups - 1).toBeGreaterThan(0);
    expect(lookupsWhenLoopRan).toBeGreaterThan(0);
    expect(lookupsWhenLoopRan).toBeLessThan(lookups);

    // A movement afterwards is recorded...
    clock.advance(60 * 60_000);
    const movedAt = clock.iso();
    await watch.observe([obs(movedAt, 'motion')]);
    const row = await db.selectFrom('resident_activity').selectAll().where('resident_id', '=', 'res-q').executeTakeFirstOrThrow();
    expect(row.last_motion_at).toBe(movedAt);
    expect(row.present).toBe(1);
    // ...and the day's quiet after it raises the no-movement welfare check (default limit 240 min).
    clock.advance(241 * 60_000);
    expect(await watch.evaluateNow()).toBeGreaterThan(0);
    const alarm = await db.selectFrom('alarms').selectAll().where('resident_id', '=', 'res-q').executeTakeFirstOrThrow();
    expect(alarm).toMatchObject({ type: 'inactivity', note: 'daily_living.no_movement', state: 'active' });
  }, 120_000);
});

// The sleep recorder (server/sleep/sleep-nights.ts) on a real SQLite database (in memory, migrated):
// readings travel another lane than bed and sleep events, so a night's first heart-rate readings
// and its score may arrive before the event that begins the night. They are kept and counted once
// the night begins, not lost.
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSleepRecorder } from '../../server/sleep/sleep-nights.ts';
import { createRegistry } from '../../server/storage/registry.ts';
import type { Database } from '../../server/storage/tables.ts';
import { quietLogger } from '../helpers/harness.ts';
import { migratedMemoryDb } from '../helpers/memory-db.ts';

let db: Kysely<Database>;
beforeAll(async () => {
  db = await migratedMemoryDb();
});
afterAll(async () => {
  await db?.destroy();
});

describe('sleep recorder', () => {
  it("counts a night's readings that arrived before the event that began it", async () => {
    const registry = createRegistry(db);
    const at = '2026-03-01T00:00:00.000Z';
    await registry.createSite({ id: 'site-z', name: 'Z', kind: 'nursing_home', timezone: 'UTC' }, at);
    await registry.createResident({ id: 'res-z', siteId: 'site-z', name: 'Z', room: '1', bed: null, settings: {} }, at);
    const recorder = createSleepRecorder({
      db,
      log: quietLogger(),
      lookups: { getResident: (id) => registry.getResident(id), getSite: (id) => registry.getSite(id) },
    });
    const r = (ts: string, o: Parameters<typeof recorder.observe>[0][number]['o']) => ({ residentId: 'res-z', at: ts, o });
    // Readings first (the telemetry lane was quicker), then the night's events.
    await recorder.observe([
      r('2026-03-01T22:15:00.000Z', { kind: 'vital', metric: 'heart_rate', min: 58, max: 61 }),
      r('2026-03-02T02:15:00.000Z', { kind: 'vital', metric: 'heart_rate', min: 54, max: 56 }),
      r('2026-03-02T06:25:00.000Z', { kind: 'score', value: 81 }),
      // Before the resident went to bed: not part of the night's ranges.
      r('2026-03-01T21:00:00.000Z', { kind: 'vital', metric: 'heart_rate', min: 90, max: 95 }),
    ]);
    await recorder.observe([
      r('2026-03-01T22:00:00.000Z', { kind: 'bed', inBed: true }),
      r('2026-03-01T22:20:00.000Z', { kind: 'state', state: 'light' }),
      r('2026-03-02T06:30:00.000Z', { kind: 'bed', inBed: false }),
    ]);
    // A reading after the night began goes straight in, as before.
    await recorder.observe([r('2026-03-02T04:00:00.000Z', { kind: 'vital', metric: 'heart_rate', min: 52, max: 57 })]);
    const night = await db.selectFrom('sleep_nights').selectAll().where('resident_id', '=', 'res-z').executeTakeFirstOrThrow();
    expect(night).toMatchObject({ night: '2026-03-01', in_bed_at: '2026-03-01T22:00:00.000Z', hr_min: 52, hr_max: 61, score: 81 });
  });
});

// The daily-living and sleep routes through inject (test/helpers/routes.ts): GET /api/v1/whereabouts
// (last known rooms, only of the residents the caller may see) and GET /api/v1/residents/:id/sleep.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SleepReport, Whereabouts } from '../../../protocol/api.ts';
import { dailyLivingRoutes } from '../../../server/http/daily-living.ts';
import { sleepRoutes } from '../../../server/http/sleep.ts';
import { emptyNight } from '../../../server/sleep/sleep-nights.ts';
import { call, createRouteWorld, RESIDENT_A, RESIDENT_B, type RouteWorld, SITE_A, SITE_B } from '../../helpers/routes.ts';

let world: RouteWorld;
let whereabouts: FastifyInstance;
let sleep: FastifyInstance;

beforeAll(async () => {
  world = await createRouteWorld();
  const row = (resident_id: string, site_id: string, last_room: string) => ({
    resident_id,
    site_id,
    last_motion_at: world.now(),
    last_device_id: 'pir-1',
    last_room,
    room_since: world.now(),
    present: 1,
    in_bed: 0,
    bed_changed_at: null,
    updated_at: world.now(),
  });
  await world.db
    .insertInto('resident_activity')
    .values([row(RESIDENT_A, SITE_A, 'living room'), row(RESIDENT_B, SITE_B, 'bathroom')])
    .execute();
  await world.db
    .insertInto('sleep_nights')
    .values([
      {
        ...emptyNight(),
        resident_id: RESIDENT_A,
        night: '2026-03-01',
        minutes_in_bed: 480,
        minutes_deep: 120,
        minutes_light: 300,
        score: 80,
      },
      {
        ...emptyNight(),
        resident_id: RESIDENT_A,
        night: '2026-02-28',
        minutes_in_bed: 420,
        minutes_deep: 100,
        minutes_light: 260,
        score: 70,
      },
    ])
    .execute();
  whereabouts = await world.app(dailyLivingRoutes, { db: world.db });
  sleep = await world.app(sleepRoutes, { db: world.db, registry: world.registry, now: world.now });
});
afterAll(() => world.close());

describe('GET /api/v1/whereabouts', () => {
  it('needs a login; an administrator sees every resident, site staff and family only theirs', async () => {
    expect((await call(whereabouts, world, null, 'GET', '/api/v1/whereabouts')).statusCode).toBe(401);
    const rooms = async (who: Parameters<typeof call>[2]) =>
      ((await call(whereabouts, world, who, 'GET', '/api/v1/whereabouts')).json() as { residents: Whereabouts[] }).residents
        .map((w) => `${w.residentId}:${w.lastRoom}`)
        .sort();
    expect(await rooms('admin')).toEqual([`${RESIDENT_A}:living room`, `${RESIDENT_B}:bathroom`]);
    expect(await rooms('caregiverA')).toEqual([`${RESIDENT_A}:living room`]);
    expect(await rooms('familyA')).toEqual([`${RESIDENT_A}:living room`]);
    expect(await rooms('caregiverB')).toEqual([`${RESIDENT_B}:bathroom`]);
  });
});

describe('GET /api/v1/residents/:id/sleep', () => {
  it('answers each night and the averages of the range', async () => {
    const r = await call(sleep, world, 'familyA', 'GET', `/api/v1/residents/${RESIDENT_A}/sleep?from=2026-02-24&to=2026-03-02`);
    expect(r.statusCode).toBe(200);
    const body = r.json() as SleepReport;
    expect(body.nights.map((n) => [n.night, n.minutesAsleep, n.score])).toEqual([
      ['2026-03-01', 420, 80],
      ['2026-02-28', 360, 70],
    ]);
    expect(body.summary).toMatchObject({ nights: 2, avgMinutesAsleep: 390, avgScore: 75 });
  });
  it("another site's resident is not found; a bad range is 400", async () => {
    expect((await call(sleep, world, 'caregiverB', 'GET', `/api/v1/residents/${RESIDENT_A}/sleep`)).statusCode).toBe(404);
    expect(
      (await call(sleep, world, 'admin', 'GET', `/api/v1/residents/${RESIDENT_A}/sleep?from=2026-03-02&to=2026-03-01`)).statusCode,
    ).toBe(400);
    expect((await call(sleep, world, 'admin', 'GET', `/api/v1/residents/${RESIDENT_A}/sleep?to=tomorrow`)).statusCode).toBe(400);
  });
});

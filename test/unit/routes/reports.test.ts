// GET /api/v1/reports/response through inject (test/helpers/routes.ts): who may read it, 400s,
// and each caller's report counts the alarms of their scope only.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reportRoutes } from '../../../server/http/reports.ts';
import { call, createRouteWorld, RESIDENT_B, type RouteWorld, SITE_A, SITE_B } from '../../helpers/routes.ts';

let world: RouteWorld;
let app: FastifyInstance;
beforeAll(async () => {
  world = await createRouteWorld();
  app = await world.app(reportRoutes, { db: world.db, alarms: world.alarms, shifts: world.shifts, now: world.now });
  const a = await world.raise();
  await world.raise();
  await world.raise(RESIDENT_B);
  world.clock.advance(30_000);
  await world.engine.acknowledge(a.id, 'caregiverA');
});
afterAll(() => world.close());

const report = async (who: 'admin' | 'leadA' | 'caregiverB', query = '') => {
  const res = await call(app, world, who, 'GET', `/api/v1/reports/response${query}`);
  expect(res.statusCode).toBe(200);
  return res.json() as { all: { alarms: number; unacknowledged: number; ackSecondsP50: number | null }; sites: Array<{ siteId: string }> };
};

describe('report routes', () => {
  it('need a login, and are not a family account’s', async () => {
    expect((await call(app, world, null, 'GET', '/api/v1/reports/response')).statusCode).toBe(401);
    expect((await call(app, world, 'familyA', 'GET', '/api/v1/reports/response')).statusCode).toBe(403);
  });

  it('answer a bad format or a reversed window with 400', async () => {
    const format = await call(app, world, 'admin', 'GET', '/api/v1/reports/response?format=pdf');
    expect(format.statusCode).toBe(400);
    expect(format.json().message).toMatch(/format/);
    const reversed = await call(app, world, 'admin', 'GET', '/api/v1/reports/response?from=2026-03-02T00:00:00Z&to=2026-03-01T00:00:00Z');
    expect(reversed.json()).toMatchObject({ statusCode: 400, message: 'from is after to' });
  });

  it('count each caller’s scope: an administrator all sites, staff their own', async () => {
    const all = await report('admin');
    expect(all.all).toMatchObject({ alarms: 3, unacknowledged: 2, ackSecondsP50: 30 });
    expect(all.sites.map((s) => s.siteId).sort()).toEqual([SITE_A, SITE_B]);
    expect((await report('leadA')).all).toMatchObject({ alarms: 2, unacknowledged: 1 });
    expect((await report('caregiverB')).all).toMatchObject({ alarms: 1, unacknowledged: 1 });
    expect((await report('admin', `?siteId=${SITE_B}`)).all.alarms).toBe(1);
  });

  it('give CSV on request', async () => {
    const res = await call(app, world, 'admin', 'GET', '/api/v1/reports/response?format=csv');
    expect(res.headers['content-type']).toMatch(/text\/csv/);
    expect(res.body.split('\n')[0]).toMatch(/^siteId,alarms,/);
  });
});

// /api/v1/sites/:id/supervision through inject (test/helpers/routes.ts).
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { supervisionRoutes } from '../../../server/http/supervision.ts';
import { call, createRouteWorld, type RouteWorld, SITE_A, SITE_B } from '../../helpers/routes.ts';

let world: RouteWorld;
let app: FastifyInstance;
beforeAll(async () => {
  world = await createRouteWorld();
  app = await world.app(supervisionRoutes, { db: world.db, now: world.now });
});
afterAll(() => world.close());

describe('supervision routes', () => {
  it('need a login', async () => {
    expect((await call(app, world, null, 'GET', `/api/v1/sites/${SITE_A}/supervision`)).statusCode).toBe(401);
  });

  it('answer the default until an administrator sets a grace, and audit the change', async () => {
    const before = (await call(app, world, 'leadA', 'GET', `/api/v1/sites/${SITE_A}/supervision`)).json();
    expect(before).toMatchObject({ default: true });
    const set = await call(app, world, 'admin', 'PUT', `/api/v1/sites/${SITE_A}/supervision`, { commissioningGraceMinutes: 90 });
    expect(set.statusCode).toBe(200);
    expect(set.json()).toEqual({ commissioningGraceMinutes: 90, default: false });
    const audit = await world.db.selectFrom('audit').selectAll().where('action', '=', 'site.supervision_changed').execute();
    expect(audit.map((a) => a.subject)).toEqual([SITE_A]);
  });

  it('refuse a grace beyond 30 days (400) and a change by anyone but an administrator (403)', async () => {
    const res = await call(app, world, 'admin', 'PUT', `/api/v1/sites/${SITE_A}/supervision`, { commissioningGraceMinutes: 50_000 });
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toMatch(/commissioningGraceMinutes/);
    expect(
      (await call(app, world, 'leadA', 'PUT', `/api/v1/sites/${SITE_A}/supervision`, { commissioningGraceMinutes: 1 })).statusCode,
    ).toBe(403);
  });

  it('answer another site, or none, with 404', async () => {
    expect((await call(app, world, 'leadA', 'GET', `/api/v1/sites/${SITE_B}/supervision`)).statusCode).toBe(404);
    expect((await call(app, world, 'familyA', 'GET', `/api/v1/sites/${SITE_A}/supervision`)).statusCode).toBe(404);
    expect(
      (await call(app, world, 'admin', 'PUT', '/api/v1/sites/nowhere/supervision', { commissioningGraceMinutes: null })).statusCode,
    ).toBe(404);
  });
});

// /api/v1/shifts through inject (test/helpers/routes.ts): who may plan, validation, scoping.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Shift } from '../../../protocol/api.ts';
import { shiftRoutes } from '../../../server/http/shifts.ts';
import { call, createRouteWorld, type RouteWorld, SITE_A, SITE_B } from '../../helpers/routes.ts';

let world: RouteWorld;
let app: FastifyInstance;
const plan = (siteId: string, userId: string) => ({ siteId, userId, start: '2026-03-02T08:00:00Z', end: '2026-03-02T16:00:00Z' });

beforeAll(async () => {
  world = await createRouteWorld();
  app = await world.app(shiftRoutes, {
    db: world.db,
    registry: world.registry,
    users: world.users,
    shifts: world.shifts,
    metrics: world.metrics,
    ids: world.ids,
  });
});
afterAll(() => world.close());

describe('shift routes', () => {
  it('need a login', async () => {
    expect((await call(app, world, null, 'GET', '/api/v1/shifts')).statusCode).toBe(401);
    expect((await call(app, world, null, 'POST', '/api/v1/shifts', plan(SITE_A, world.userIds.caregiverA))).statusCode).toBe(401);
  });

  it('answer a malformed shift with 400 naming the field, and an end before its start too', async () => {
    const res = await call(app, world, 'admin', 'POST', '/api/v1/shifts', { ...plan(SITE_A, world.userIds.caregiverA), start: 'soon' });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: 'VALIDATION' });
    expect(res.json().message).toMatch(/start/);
    const backwards = await call(app, world, 'admin', 'POST', '/api/v1/shifts', {
      ...plan(SITE_A, world.userIds.caregiverA),
      end: '2026-03-02T07:00:00Z',
    });
    expect(backwards.statusCode).toBe(400);
    expect(backwards.json().message).toBe('end must be after start');
  });

  it('let a nurse lead plan their own site only, for staff of that site', async () => {
    const ok = await call(app, world, 'leadA', 'POST', '/api/v1/shifts', plan(SITE_A, world.userIds.caregiverA));
    expect(ok.statusCode).toBe(201);
    expect(ok.json()).toMatchObject({ siteId: SITE_A, userId: world.userIds.caregiverA, rooms: null });
    expect((await call(app, world, 'leadA', 'POST', '/api/v1/shifts', plan(SITE_B, world.userIds.caregiverB))).statusCode).toBe(403);
    expect((await call(app, world, 'caregiverA', 'POST', '/api/v1/shifts', plan(SITE_A, world.userIds.caregiverA))).statusCode).toBe(403);
    // Another site's caregiver, or a family account, is not staff of site A.
    expect((await call(app, world, 'admin', 'POST', '/api/v1/shifts', plan(SITE_A, world.userIds.caregiverB))).statusCode).toBe(400);
    expect((await call(app, world, 'admin', 'POST', '/api/v1/shifts', plan(SITE_A, world.userIds.familyA))).statusCode).toBe(400);
  });

  it('list and delete shifts within the caller’s sites only', async () => {
    const b = (await call(app, world, 'admin', 'POST', '/api/v1/shifts', plan(SITE_B, world.userIds.caregiverB))).json() as Shift;
    const seen = (who: 'admin' | 'leadA' | 'caregiverB') =>
      call(app, world, who, 'GET', '/api/v1/shifts').then((r) => (r.json() as { shifts: Shift[] }).shifts.map((s) => s.siteId).sort());
    expect(await seen('admin')).toEqual([SITE_A, SITE_B]);
    expect(await seen('leadA')).toEqual([SITE_A]);
    expect(await seen('caregiverB')).toEqual([SITE_B]);
    // Another site's shift answers like a missing one.
    expect((await call(app, world, 'leadA', 'DELETE', `/api/v1/shifts/${b.id}`)).statusCode).toBe(404);
    const gone = await call(app, world, 'admin', 'DELETE', `/api/v1/shifts/${b.id}`);
    expect(gone.json()).toEqual({ id: b.id, deleted: true });
    expect((await call(app, world, 'admin', 'DELETE', `/api/v1/shifts/${b.id}`)).statusCode).toBe(404);
  });
});

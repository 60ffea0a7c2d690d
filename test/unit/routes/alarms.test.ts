// /api/v1/alarms routes through inject (test/helpers/routes.ts): login, validation, the happy path
// and scoping by site and resident.

import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alarm } from '../../../protocol/index.ts';
import { alarmRoutes } from '../../../server/http/alarms.ts';
import { call, createRouteWorld, RESIDENT_B, type RouteWorld } from '../../helpers/routes.ts';

let world: RouteWorld;
let app: FastifyInstance;
let a: Alarm;
let b: Alarm;

beforeAll(async () => {
  world = await createRouteWorld();
  app = await world.app(alarmRoutes, { alarms: world.alarms, engine: world.engine });
  a = await world.raise();
  b = await world.raise(RESIDENT_B);
});
afterAll(() => world.close());

describe('alarm routes', () => {
  it('refuse a caller without a token (401)', async () => {
    const res = await call(app, world, null, 'GET', '/api/v1/alarms');
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({ error: 'UNAUTHORIZED' });
  });

  it('answer a bad query or body with 400 naming the field', async () => {
    const q = await call(app, world, 'admin', 'GET', '/api/v1/alarms?limit=0');
    expect(q.statusCode).toBe(400);
    expect(q.json()).toMatchObject({ error: 'VALIDATION' });
    expect(q.json().message).toMatch(/limit/);
    const body = await call(app, world, 'admin', 'POST', `/api/v1/alarms/${a.id}/snooze`, { minutes: 600 });
    expect(body.statusCode).toBe(400);
    expect(body.json().message).toMatch(/minutes/);
    const cursor = await call(app, world, 'admin', 'GET', '/api/v1/alarms?before=nonsense');
    expect(cursor.statusCode).toBe(400);
    expect(cursor.json()).toMatchObject({ error: 'BAD_CURSOR' });
  });

  it('list each caller only the alarms of their scope', async () => {
    const ids = async (who: Parameters<typeof call>[2]) =>
      ((await call(app, world, who, 'GET', '/api/v1/alarms')).json() as { alarms: Alarm[] }).alarms.map((x) => x.id).sort();
    expect(await ids('admin')).toEqual([a.id, b.id].sort());
    expect(await ids('leadA')).toEqual([a.id]);
    expect(await ids('caregiverB')).toEqual([b.id]);
    expect(await ids('familyA')).toEqual([a.id]);
  });

  it('answer another site’s alarm like a missing one (404), and refuse a family account’s snooze and resolve (403)', async () => {
    expect((await call(app, world, 'caregiverB', 'GET', `/api/v1/alarms/${a.id}`)).statusCode).toBe(404);
    expect((await call(app, world, 'caregiverB', 'POST', `/api/v1/alarms/${a.id}/ack`)).statusCode).toBe(404);
    expect((await call(app, world, 'familyA', 'POST', `/api/v1/alarms/${a.id}/snooze`, { minutes: 5 })).statusCode).toBe(403);
    expect((await call(app, world, 'familyA', 'POST', `/api/v1/alarms/${a.id}/resolve`, {})).statusCode).toBe(403);
    expect((await call(app, world, 'admin', 'GET', '/api/v1/alarms/nope')).statusCode).toBe(404);
  });

  it('acknowledge and resolve an alarm in scope, with its history', async () => {
    const ack = await call(app, world, 'caregiverA', 'POST', `/api/v1/alarms/${a.id}/ack`);
    expect(ack.statusCode).toBe(200);
    expect(ack.json()).toMatchObject({ id: a.id, state: 'acknowledged', ackBy: 'caregiverA' });
    const again = await call(app, world, 'caregiverA', 'POST', `/api/v1/alarms/${a.id}/ack`);
    expect(again.statusCode).toBe(409);
    const resolved = await call(app, world, 'leadA', 'POST', `/api/v1/alarms/${a.id}/resolve`, { outcome: 'assisted', note: 'helped up' });
    expect(resolved.json()).toMatchObject({ state: 'resolved', outcome: 'assisted', note: 'helped up' });
    const one = (await call(app, world, 'leadA', 'GET', `/api/v1/alarms/${a.id}`)).json() as { history: Array<{ action: string }> };
    expect(one.history.map((h) => h.action)).toEqual(expect.arrayContaining(['acknowledged', 'resolved']));
    const open = (await call(app, world, 'admin', 'GET', '/api/v1/alarms?open=true')).json() as { alarms: Alarm[] };
    expect(open.alarms.map((x) => x.id)).toEqual([b.id]);
  });
});

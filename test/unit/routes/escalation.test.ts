// Escalation chains, the weekly test schedule, the audit log and the notification outbox through
// inject (test/helpers/routes.ts): who may read and write, validation, scoping by site.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EscalationPolicy } from '../../../server/alarms/escalation-policy.ts';
import { escalationRoutes } from '../../../server/http/escalation.ts';
import { call, createRouteWorld, RESIDENT_B, type RouteWorld, SITE_A, SITE_B } from '../../helpers/routes.ts';

let world: RouteWorld;
let app: FastifyInstance;
const chain: EscalationPolicy = {
  levels: [
    { name: 'caregivers', timeoutSeconds: 60, contacts: [] },
    { name: 'family', timeoutSeconds: 120, contacts: [{ kind: 'sms', target: '+8613800000001' }] },
  ],
};

beforeAll(async () => {
  world = await createRouteWorld();
  app = await world.app(escalationRoutes, {
    db: world.db,
    registry: world.registry,
    policies: world.policies,
    notifier: world.notifier,
    alarms: world.alarms,
    engine: world.engine,
    metrics: world.metrics,
    now: world.now,
  });
});
afterAll(() => world.close());

describe('escalation chain routes', () => {
  it('need a login', async () => {
    expect((await call(app, world, null, 'GET', `/api/v1/sites/${SITE_A}/escalation`)).statusCode).toBe(401);
    expect((await call(app, world, null, 'GET', '/api/v1/notifications')).statusCode).toBe(401);
  });

  it('answer a chain without levels, or a bad schedule time, with 400 naming the field', async () => {
    const res = await call(app, world, 'admin', 'PUT', `/api/v1/sites/${SITE_A}/escalation`, { levels: [] });
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toMatch(/levels/);
    const time = await call(app, world, 'admin', 'PUT', `/api/v1/sites/${SITE_A}/test-schedule`, { weekday: 1, time: '25:00' });
    expect(time.statusCode).toBe(400);
    expect(time.json().message).toMatch(/time/);
  });

  it('let an administrator set a chain; staff of the site read who is called but not the numbers', async () => {
    expect((await call(app, world, 'leadA', 'PUT', `/api/v1/sites/${SITE_A}/escalation`, chain)).statusCode).toBe(403);
    expect((await call(app, world, 'admin', 'PUT', `/api/v1/sites/${SITE_A}/escalation`, chain)).statusCode).toBe(200);
    const admin = (await call(app, world, 'admin', 'GET', `/api/v1/sites/${SITE_A}/escalation`)).json();
    expect(admin.levels[1].contacts).toEqual([{ kind: 'sms', target: '+8613800000001' }]);
    const lead = (await call(app, world, 'leadA', 'GET', `/api/v1/sites/${SITE_A}/escalation`)).json();
    expect(lead.levels[1].contacts).toEqual([{ kind: 'sms' }]);
    expect((await call(app, world, 'caregiverB', 'GET', `/api/v1/sites/${SITE_A}/escalation`)).statusCode).toBe(404);
    expect((await call(app, world, 'admin', 'PUT', '/api/v1/sites/nowhere/escalation', chain)).statusCode).toBe(404);
  });

  it('store a weekly test schedule with its defaults', async () => {
    const res = await call(app, world, 'admin', 'PUT', `/api/v1/sites/${SITE_B}/test-schedule`, { weekday: 2, time: '10:30' });
    expect(res.json()).toEqual({ weekday: 2, time: '10:30', windowSeconds: 900, kinds: ['call_button'] });
    expect(
      (await call(app, world, 'caregiverB', 'PUT', `/api/v1/sites/${SITE_B}/test-schedule`, { weekday: 2, time: '10:30' })).statusCode,
    ).toBe(403);
  });

  it('show the audit log and the outbox to administrators only; a receipt only for an alarm in scope', async () => {
    await world.policies.set(SITE_B, chain, world.now());
    const alarm = await world.raise(RESIDENT_B);
    // As the engine's onEscalated does when the alarm reaches the family level.
    await world.notifier.escalated(alarm, 1, world.policies.get(SITE_B));
    const list = await call(app, world, 'admin', 'GET', '/api/v1/notifications?channel=sms');
    expect(list.statusCode).toBe(200);
    const [n] = list.json().notifications as Array<{ id: string; alarmId: string; target: string }>;
    expect(n).toMatchObject({ alarmId: alarm.id, target: '+8613800000001' });
    expect((await call(app, world, 'leadA', 'GET', '/api/v1/notifications')).statusCode).toBe(403);
    expect((await call(app, world, 'leadA', 'GET', '/api/v1/audit')).statusCode).toBe(403);
    const audit = await call(app, world, 'admin', 'GET', `/api/v1/audit?alarmId=${alarm.id}`);
    expect(audit.json().entries.length).toBeGreaterThan(0);
    expect((await call(app, world, 'admin', 'GET', '/api/v1/audit?limit=0')).statusCode).toBe(400);
    const id = (n as { id: string }).id;
    // Another site's caregiver gets the same 404 as for an unknown notification.
    expect((await call(app, world, 'caregiverA', 'POST', `/api/v1/notifications/${id}/receipt`, { status: 'seen' })).statusCode).toBe(404);
    expect((await call(app, world, 'caregiverB', 'POST', `/api/v1/notifications/${id}/receipt`, { status: 'maybe' })).statusCode).toBe(400);
    const seen = await call(app, world, 'caregiverB', 'POST', `/api/v1/notifications/${id}/receipt`, { status: 'seen' });
    expect(seen.statusCode).toBe(200);
    // A phone number is an administrator's to read.
    expect(seen.json()).toEqual({ id, alarmId: alarm.id, state: 'seen', channel: 'sms' });
  });
});

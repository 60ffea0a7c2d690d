// What the admin pages read and write besides the registry, through inject (test/helpers/routes.ts):
// the audit log searched by resident, user and date; a site's weekly test schedule read back; a
// chain saved without its write-only webhook secret keeps the stored one.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { escalationRoutes } from '../../../server/http/escalation.ts';
import { appendAudit } from '../../../server/storage/alarms.ts';
import { call, createRouteWorld, RESIDENT_A, RESIDENT_B, type RouteWorld, SITE_A, SITE_B } from '../../helpers/routes.ts';

// Later, inside the accounts' one-hour sessions.
const LATER = 30 * 60_000;
let world: RouteWorld;
let app: FastifyInstance;
let alarmA: string;
let alarmB: string;
let later: string;

type Entry = { at: string; actor: string; action: string; alarmId: string | null; subject: string | null };
const audit = async (query: string) => {
  const res = await call(app, world, 'admin', 'GET', `/api/v1/audit?${query}`);
  expect(res.statusCode).toBe(200);
  return res.json().entries as Entry[];
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
  // First: a fall of resident A acknowledged by caregiverA; resident B's data exported by admin.
  alarmA = (await world.raise(RESIDENT_A)).id;
  await world.engine.acknowledge(alarmA, 'caregiverA');
  await appendAudit(world.db, { at: world.now(), actor: 'admin', action: 'resident.exported', subject: RESIDENT_B });
  // Later: a fall of resident B; resident A's data viewed by leadA.
  world.clock.advance(LATER);
  later = world.now();
  alarmB = (await world.raise(RESIDENT_B)).id;
  await appendAudit(world.db, { at: world.now(), actor: 'leadA', action: 'view.resident', subject: RESIDENT_A, detail: { what: 'x' } });
});
afterAll(() => world.close());

describe('the audit log searched by resident, user and date', () => {
  it("by resident: the resident's own entries and their alarms' entries, nobody else's", async () => {
    const a = await audit(`residentId=${RESIDENT_A}`);
    expect(a.some((e) => e.alarmId === alarmA && e.actor === 'caregiverA')).toBe(true);
    expect(a.some((e) => e.action === 'view.resident' && e.subject === RESIDENT_A)).toBe(true);
    expect(a.every((e) => e.alarmId === alarmA || e.subject === RESIDENT_A)).toBe(true);
    const b = await audit(`residentId=${RESIDENT_B}`);
    expect(b.some((e) => e.alarmId === alarmB)).toBe(true);
    expect(b.some((e) => e.action === 'resident.exported')).toBe(true);
    expect(b.every((e) => e.alarmId === alarmB || e.subject === RESIDENT_B)).toBe(true);
  });

  it('by user: only what that user did', async () => {
    const entries = await audit('actor=caregiverA');
    expect(entries.length).toBeGreaterThan(0);
    expect(entries.every((e) => e.actor === 'caregiverA' && e.alarmId === alarmA)).toBe(true);
    expect(await audit('actor=nobody')).toEqual([]);
  });

  it('by date, alone and with the other filters', async () => {
    const late = await audit(`from=${encodeURIComponent(later)}`);
    expect(late.length).toBeGreaterThan(0);
    expect(late.every((e) => e.at >= later)).toBe(true);
    expect(late.some((e) => e.alarmId === alarmA)).toBe(false);
    const early = await audit(`to=${encodeURIComponent(new Date(Date.parse(later) - 1).toISOString())}`);
    expect(early.every((e) => e.at < later)).toBe(true);
    expect(early.some((e) => e.alarmId === alarmB)).toBe(false);
    const viewed = await audit(`residentId=${RESIDENT_A}&from=${encodeURIComponent(later)}`);
    expect(viewed.map((e) => e.action)).toEqual(['view.resident']);
  });

  it('a bad date or an unknown filter is a 400 naming it; staff may not search', async () => {
    const bad = await call(app, world, 'admin', 'GET', '/api/v1/audit?from=yesterday');
    expect(bad.statusCode).toBe(400);
    expect(bad.json().message).toMatch(/from/);
    expect((await call(app, world, 'admin', 'GET', '/api/v1/audit?who=admin')).statusCode).toBe(400);
    expect((await call(app, world, 'leadA', 'GET', `/api/v1/audit?residentId=${RESIDENT_A}`)).statusCode).toBe(403);
  });
});

describe("a site's weekly test schedule read back", () => {
  it('is null before it is planned, then as planned, for staff of that site only', async () => {
    const before = await call(app, world, 'leadA', 'GET', `/api/v1/sites/${SITE_A}/test-schedule`);
    expect(before.json()).toEqual({ schedule: null, lastRun: null });
    expect(
      (await call(app, world, 'admin', 'PUT', `/api/v1/sites/${SITE_A}/test-schedule`, { weekday: 3, time: '10:30' })).statusCode,
    ).toBe(200);
    const after = await call(app, world, 'leadA', 'GET', `/api/v1/sites/${SITE_A}/test-schedule`);
    expect(after.json()).toEqual({ schedule: { weekday: 3, time: '10:30', windowSeconds: 900, kinds: ['call_button'] }, lastRun: null });
    // Another site's caregiver, and an unknown site, get the same 404.
    expect((await call(app, world, 'caregiverB', 'GET', `/api/v1/sites/${SITE_A}/test-schedule`)).statusCode).toBe(404);
    expect((await call(app, world, 'admin', 'GET', '/api/v1/sites/nowhere/test-schedule')).statusCode).toBe(404);
  });
});

describe('the webhook secret is write-only and kept', () => {
  it('a chain saved without webhookSecret keeps the stored one; a new one replaces it', async () => {
    const chain = {
      levels: [
        { name: 'caregiver', timeoutSeconds: 60, contacts: [] },
        { name: 'nurse_lead', timeoutSeconds: 120, contacts: [{ kind: 'webhook', target: 'http://127.0.0.1:9/hook' }] },
      ],
    };
    const first = await call(app, world, 'admin', 'PUT', `/api/v1/sites/${SITE_B}/escalation`, {
      ...chain,
      webhookSecret: 'first-secret-0123456789',
    });
    expect(first.json().webhookSecret).toBe('(set)');
    const edited = { ...chain, levels: [{ ...chain.levels[0], timeoutSeconds: 30 }, chain.levels[1]] };
    const again = await call(app, world, 'admin', 'PUT', `/api/v1/sites/${SITE_B}/escalation`, edited);
    expect(again.json().webhookSecret).toBe('(set)');
    expect(world.policies.get(SITE_B)).toMatchObject({ webhookSecret: 'first-secret-0123456789', levels: [{ timeoutSeconds: 30 }, {}] });
    await call(app, world, 'admin', 'PUT', `/api/v1/sites/${SITE_B}/escalation`, { ...chain, webhookSecret: 'second-secret-0123456789' });
    expect(world.policies.get(SITE_B).webhookSecret).toBe('second-secret-0123456789');
    // A site without a secret stays without one.
    await call(app, world, 'admin', 'PUT', `/api/v1/sites/${SITE_A}/escalation`, chain);
    expect(world.policies.get(SITE_A).webhookSecret).toBeUndefined();
  });
});

describe('notifications for the screen', () => {
  it('newest first on request (oldest first by default, as an SMS gateway polls them); a push filter is accepted', async () => {
    const chain = {
      levels: [
        { name: 'caregiver', timeoutSeconds: 60, contacts: [] },
        { name: 'family', timeoutSeconds: 60, contacts: [{ kind: 'sms', target: '+8613800000002' }] },
      ],
    };
    await world.policies.set(SITE_A, chain as never, world.now());
    const first = await world.raise(RESIDENT_A);
    await world.notifier.escalated(first, 1, world.policies.get(SITE_A));
    world.clock.advance(1000);
    const second = await world.raise(RESIDENT_A);
    await world.notifier.escalated(second, 1, world.policies.get(SITE_A));
    const ids = async (q: string) =>
      ((await call(app, world, 'admin', 'GET', `/api/v1/notifications?channel=sms${q}`)).json().notifications as Array<{ alarmId: string }>)
        .map((n) => n.alarmId)
        .filter((id) => id === first.id || id === second.id);
    expect(await ids('')).toEqual([first.id, second.id]);
    expect(await ids('&order=newest')).toEqual([second.id, first.id]);
    expect((await call(app, world, 'admin', 'GET', '/api/v1/notifications?channel=push')).statusCode).toBe(200);
    expect((await call(app, world, 'admin', 'GET', '/api/v1/notifications?order=random')).statusCode).toBe(400);
  });
});

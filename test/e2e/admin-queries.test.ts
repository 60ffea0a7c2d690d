// What the admin pages read besides the registry: the audit log searched by resident, user and date,
// and a site's weekly device-test schedule. A real server on port 0 with a fake clock, a raw MQTT
// client as the gateway.
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Alarm, gatewayTopic } from '../../protocol/index.ts';
import { FakeClock } from '../helpers/fake-clock.ts';
import {
  ADMIN_PASSWORD,
  connectAsGateway,
  type DemoSite,
  registerSite,
  startTestServer,
  type TestServer,
  waitFor,
} from '../helpers/harness.ts';

const DAY = 86_400_000;
const clock = new FakeClock(Date.parse('2026-11-23T02:00:00.000Z'));
let server: TestServer;
let site: DemoSite;
let gw: MqttClient;
let other: string;
let alarmId: string;
let nurseToken: string;
let adminToken: string;

type Entry = { at: string; actor: string; action: string; alarmId: string | null; subject: string | null };
const audit = async (query: string) => {
  const r = await server.api<{ entries: Entry[] }>('GET', `/api/v1/audit?${query}`, undefined, adminToken);
  expect(r.status).toBe(200);
  return r.body.entries;
};

beforeAll(async () => {
  server = await startTestServer(undefined, { clock });
  site = await registerSite(server);
  other = (await server.api<{ id: string }>('POST', '/api/v1/residents', { siteId: site.siteId, name: '李建国', room: '204' })).body.id;
  expect(
    (
      await server.api('POST', '/api/v1/users', {
        username: 'nurse1',
        password: 'nurse-password-1',
        role: 'admin',
        displayName: 'Nurse',
      })
    ).status,
  ).toBe(201);
  nurseToken = (await server.api<{ token: string }>('POST', '/api/v1/auth/login', { username: 'nurse1', password: 'nurse-password-1' }))
    .body.token;
  gw = await connectAsGateway(server, site);

  // Day 1: the resident of room 203 calls, the nurse acknowledges; the admin exports the other resident.
  await gw.publishAsync(
    gatewayTopic(site.siteId, site.gatewayId, 'events'),
    JSON.stringify({ v: 1, id: 'aq-1', seq: 1, ts: clock.iso(), device: 'btn-203', type: 'call' }),
    { qos: 1 },
  );
  const alarm = await waitFor(
    async () => (await server.api<{ alarms: Alarm[] }>('GET', '/api/v1/alarms')).body.alarms.find((a) => a.deviceId === 'btn-203'),
    'call alarm',
  );
  alarmId = alarm.id;
  expect((await server.api('POST', `/api/v1/alarms/${alarmId}/ack`, {}, nurseToken)).status).toBe(200);
  expect((await server.api('GET', `/api/v1/residents/${other}/export`)).status).toBe(200);
  // Day 3: the admin exports the resident of room 203.
  // Sessions last less than two days: sign in again.
  clock.advance(2 * DAY);
  adminToken = (await server.api<{ token: string }>('POST', '/api/v1/auth/login', { username: 'admin', password: ADMIN_PASSWORD })).body
    .token;
  expect((await server.api('GET', `/api/v1/residents/${site.residentId}/export`, undefined, adminToken)).status).toBe(200);
});
afterAll(async () => {
  await gw?.endAsync();
  await server?.stop();
});

describe('the audit log searched by resident, user and date', () => {
  it("by resident: the resident's own entries and their alarms' entries, none of another resident", async () => {
    const entries = await audit(`residentId=${encodeURIComponent(site.residentId)}`);
    expect(entries.some((e) => e.action === 'resident.exported' && e.subject === site.residentId)).toBe(true);
    expect(entries.some((e) => e.alarmId === alarmId)).toBe(true);
    // Two silent days later, supervision has raised the resident's devices' offline alarms too.
    const theirs = new Set(
      (await server.api<{ alarms: Alarm[] }>('GET', '/api/v1/alarms', undefined, adminToken)).body.alarms
        .filter((a) => a.residentId === site.residentId)
        .map((a) => a.id),
    );
    expect(entries.every((e) => e.subject === site.residentId || (e.alarmId !== null && theirs.has(e.alarmId)))).toBe(true);
    const others = await audit(`residentId=${encodeURIComponent(other)}`);
    expect(others.map((e) => e.action)).toEqual(['resident.exported']);
  });

  it('by user: only what that user did', async () => {
    const entries = await audit('actor=nurse1');
    expect(entries.length).toBeGreaterThan(0);
    expect(entries.every((e) => e.actor === 'nurse1')).toBe(true);
    expect(entries.some((e) => e.alarmId === alarmId)).toBe(true);
  });

  it('by date: from and to bound the time of the entry, and combine with the other filters', async () => {
    const day3 = new Date(clock.now() - 3_600_000).toISOString();
    const recent = await audit(`from=${encodeURIComponent(day3)}`);
    expect(recent.every((e) => e.at >= day3)).toBe(true);
    expect(recent.some((e) => e.action === 'resident.exported' && e.subject === site.residentId)).toBe(true);
    expect(recent.some((e) => e.subject === other)).toBe(false);
    const early = await audit(`to=${encodeURIComponent(day3)}&residentId=${encodeURIComponent(site.residentId)}`);
    expect(early.length).toBeGreaterThan(0);
    expect(early.every((e) => e.at <= day3)).toBe(true);
    expect(early.some((e) => e.alarmId === alarmId && e.actor === 'nurse1')).toBe(true);
    expect(early.some((e) => e.action === 'resident.exported')).toBe(false);
  });

  it('a bad date or an unknown filter is a 400 that names it', async () => {
    const bad = await server.api<{ message: string }>('GET', '/api/v1/audit?from=yesterday', undefined, adminToken);
    expect(bad.status).toBe(400);
    expect(bad.body.message).toContain('from');
    expect((await server.api('GET', '/api/v1/audit?who=admin', undefined, adminToken)).status).toBe(400);
  });
});

describe("a site's weekly device-test schedule", () => {
  it('reads as null before it is planned, then as planned, for staff of the site', async () => {
    const before = await server.api<{ schedule: unknown }>('GET', `/api/v1/sites/${site.siteId}/test-schedule`, undefined, adminToken);
    expect(before).toMatchObject({ status: 200, body: { schedule: null, lastRun: null } });
    const put = await server.api('PUT', `/api/v1/sites/${site.siteId}/test-schedule`, { weekday: 3, time: '10:30' }, adminToken);
    expect(put.status).toBe(200);
    const after = await server.api('GET', `/api/v1/sites/${site.siteId}/test-schedule`, undefined, adminToken);
    expect(after.body).toMatchObject({ schedule: { weekday: 3, time: '10:30', windowSeconds: 900, kinds: ['call_button'] } });
    expect((await server.api('GET', '/api/v1/sites/no-such-site/test-schedule', undefined, adminToken)).status).toBe(404);
  });
});

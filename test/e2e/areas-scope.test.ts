// Scoping by the areas tree (issue 15 part 2): one test per role, each on the REST lists, a single
// alarm, the live feed's snapshot and the report. Three family beds: A1 and A2 in community X
// (A2's grid worker is G), B in community Y. A centre operator of X's street sees A1 and A2, not B;
// G sees A2 only; a responder sees only B's alarm that was escalated to them; a family login named
// in A1's resident's contacts sees that resident only. Each fails with its filter removed.
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Alarm, gatewayTopic, type WsMessage } from '../../protocol/index.ts';
import { FakeClock } from '../helpers/fake-clock.ts';
import { connectAsGateway, type DemoSite, Screen, startTestServer, type TestServer, waitFor } from '../helpers/harness.ts';

const PASSWORD = 'correct horse battery';
const clock = new FakeClock(Date.parse('2026-12-02T02:00:00.000Z'));
let server: TestServer;
const gws: MqttClient[] = [];
const tokens: Record<string, string> = {};
const userIds: Record<string, string> = {};
const homes = {} as Record<'a1' | 'a2' | 'b', DemoSite & { gw: MqttClient }>;
const calls = {} as Record<'a1' | 'a2' | 'b', Alarm>;
let n = 0;

async function ok<T>(method: string, route: string, body?: unknown): Promise<T> {
  const r = await server.api<T>(method, route, body);
  if (r.status >= 300) throw new Error(`${method} ${route}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

async function familyBed(name: string, areaId: string, extra: object = {}): Promise<DemoSite & { gw: MqttClient }> {
  const site = await ok<{ id: string }>('POST', '/api/v1/sites', {
    name,
    kind: 'family_bed',
    timezone: 'Asia/Shanghai',
    areaId,
    address: `${name} 1号`,
    lat: 31.2,
    lon: 121.4,
    ...extra,
  });
  const resident = await ok<{ id: string }>('POST', '/api/v1/residents', { siteId: site.id, name: `${name} 老人`, room: '1' });
  const gw = await ok<{ id: string; secret: string }>('POST', '/api/v1/gateways', { siteId: site.id, name });
  await ok('POST', '/api/v1/devices', { id: `btn-${site.id}`, gatewayId: gw.id, kind: 'call_button', residentId: resident.id });
  const s = { siteId: site.id, gatewayId: gw.id, secret: gw.secret, residentId: resident.id };
  const client = await connectAsGateway(server, s);
  gws.push(client);
  return { ...s, gw: client };
}

async function raiseCall(h: DemoSite & { gw: MqttClient }): Promise<Alarm> {
  n += 1;
  const device = `btn-${h.siteId}`;
  await h.gw.publishAsync(
    gatewayTopic(h.siteId, h.gatewayId, 'events'),
    JSON.stringify({ v: 1, id: `areas-${n}`, seq: n, ts: clock.iso(), device, type: 'call' }),
    { qos: 1 },
  );
  return waitFor(
    async () =>
      (await server.api<{ alarms: Alarm[] }>('GET', '/api/v1/alarms?state=active')).body.alarms.find((a) => a.deviceId === device),
    `call from ${device}`,
  );
}

async function user(username: string, body: object) {
  const made = await ok<{ id: string }>('POST', '/api/v1/users', { username, password: PASSWORD, ...body });
  userIds[username] = made.id;
  const login = await server.api<{ token: string }>('POST', '/api/v1/auth/login', { username, password: PASSWORD }, '');
  tokens[username] = login.body.token;
}

/** What one login sees: the alarm list, each single alarm, the live feed's snapshot, the report. */
async function seen(username: string) {
  const token = tokens[username] as string;
  const list = (await server.api<{ alarms: Alarm[] }>('GET', '/api/v1/alarms', undefined, token)).body.alarms.map((a) => a.id);
  const single: string[] = [];
  for (const a of Object.values(calls)) {
    if ((await server.api('GET', `/api/v1/alarms/${a.id}`, undefined, token)).status === 200) single.push(a.id);
  }
  const screen = await Screen.open(server, undefined, token);
  const snapshot = screen.messages.find((m): m is Extract<WsMessage, { type: 'snapshot' }> => m.type === 'snapshot');
  screen.close();
  return { list: list.sort(), single: single.sort(), feed: (snapshot?.alarms ?? []).map((a) => a.id).sort() };
}
const ids = (...keys: Array<'a1' | 'a2' | 'b'>) => keys.map((k) => calls[k].id).sort();

beforeAll(async () => {
  server = await startTestServer(undefined, { clock });
  const district = await ok<{ id: string }>('POST', '/api/v1/areas', { kind: 'district', name: '徐汇区' });
  const streetX = await ok<{ id: string }>('POST', '/api/v1/areas', { kind: 'street', name: '天平街道', parentId: district.id });
  const streetY = await ok<{ id: string }>('POST', '/api/v1/areas', { kind: 'street', name: '湖南街道', parentId: district.id });
  const x = await ok<{ id: string }>('POST', '/api/v1/areas', { kind: 'community', name: 'X 社区', parentId: streetX.id });
  const y = await ok<{ id: string }>('POST', '/api/v1/areas', { kind: 'community', name: 'Y 社区', parentId: streetY.id });
  await user('grid-g', { role: 'grid_worker', phone: '+8613800000010' });
  await user('centre-x', { role: 'centre_operator', areaId: streetX.id });
  await user('responder-r', { role: 'responder', phone: '+8613800000011' });
  homes.a1 = await familyBed('A1', x.id);
  homes.a2 = await familyBed('A2', x.id, { gridWorkerId: userIds['grid-g'] });
  homes.b = await familyBed('B', y.id);
  // The family login is linked through A1's resident's contacts, not users.residentId.
  await user('family-f', { role: 'family', residentId: homes.a1.residentId });
  await ok('PUT', `/api/v1/residents/${homes.a1.residentId}/contacts`, {
    contacts: [{ name: '李梅', relation: '女儿', phone: '+8613900000001', userId: userIds['family-f'] }],
  });
  // B's chain reaches the responder after 5 s.
  await ok('PUT', `/api/v1/sites/${homes.b.siteId}/escalation`, {
    levels: [
      { name: 'family', timeoutSeconds: 5, contacts: [] },
      { name: 'emergency_responder', timeoutSeconds: 600, contacts: [{ kind: 'user', target: userIds['responder-r'] }] },
    ],
  });
  calls.a1 = await raiseCall(homes.a1);
  calls.a2 = await raiseCall(homes.a2);
  calls.b = await raiseCall(homes.b);
}, 120_000);
afterAll(async () => {
  for (const g of gws) await g.endAsync();
  await server?.stop();
});

describe('every role sees what the areas tree gives it', () => {
  it("a centre operator sees every home of their street's communities, not another street's", async () => {
    const s = await seen('centre-x');
    expect(s).toEqual({ list: ids('a1', 'a2'), single: ids('a1', 'a2'), feed: ids('a1', 'a2') });
    const board = await server.api<{ homes: Array<{ siteId: string }> }>('GET', '/api/v1/centre/board', undefined, tokens['centre-x']);
    expect(board.body.homes.map((h) => h.siteId).sort()).toEqual([homes.a1.siteId, homes.a2.siteId].sort());
    const report = await server.api<{ all: { alarms: number } }>('GET', '/api/v1/reports/response', undefined, tokens['centre-x']);
    expect(report.body.all.alarms).toBe(2);
    const sites = await server.api<{ sites: Array<{ id: string }> }>('GET', '/api/v1/sites', undefined, tokens['centre-x']);
    expect(sites.body.sites.map((x) => x.id).sort()).toEqual([homes.a1.siteId, homes.a2.siteId].sort());
  });

  it('a grid worker sees the homes they are responsible for only', async () => {
    const s = await seen('grid-g');
    expect(s).toEqual({ list: ids('a2'), single: ids('a2'), feed: ids('a2') });
    const board = await server.api<{ homes: Array<{ siteId: string }> }>('GET', '/api/v1/centre/board', undefined, tokens['grid-g']);
    expect(board.body.homes.map((h) => h.siteId)).toEqual([homes.a2.siteId]);
  });

  it('a family login sees the relative whose contacts name it, and may accept but not resolve', async () => {
    const s = await seen('family-f');
    expect(s).toEqual({ list: ids('a1'), single: ids('a1'), feed: ids('a1') });
    expect((await server.api('GET', '/api/v1/centre/board', undefined, tokens['family-f'])).status).toBe(403);
    expect((await server.api('POST', `/api/v1/alarms/${calls.a2.id}/ack`, undefined, tokens['family-f'])).status).toBe(404);
    expect((await server.api('POST', `/api/v1/alarms/${calls.a1.id}/resolve`, {}, tokens['family-f'])).status).toBe(403);
    const ack = await server.api<Alarm>('POST', `/api/v1/alarms/${calls.a1.id}/ack`, undefined, tokens['family-f']);
    expect(ack.status).toBe(200);
    expect(ack.body.ackBy).toBe('family-f');
  });

  it('a responder sees an alarm once it is escalated to them, and nothing else; their open screen gets it', async () => {
    expect(await seen('responder-r')).toEqual({ list: [], single: [], feed: [] });
    const screen = await Screen.open(server, undefined, tokens['responder-r']);
    clock.advance(6_000);
    await server.tick();
    await waitFor(
      async () => (await server.api<{ alarm: Alarm }>('GET', `/api/v1/alarms/${calls.b.id}`)).body.alarm.escalationLevel === 1,
      'B escalated to the responder',
    );
    expect(await seen('responder-r')).toEqual({ list: ids('b'), single: ids('b'), feed: ids('b') });
    // The screen opened before the escalation is sent a snapshot with it (scope read again).
    await waitFor(
      () => screen.messages.some((m) => m.type === 'snapshot' && m.alarms.some((a) => a.id === calls.b.id)),
      "the responder's open screen gets the escalated alarm",
      15_000,
    );
    expect(
      screen.messages.flatMap((m) => (m.type === 'snapshot' ? m.alarms : m.type === 'alarm' ? [m.alarm] : [])).map((a) => a.id),
    ).not.toContain(calls.a1.id);
    screen.close();
    const ack = await server.api<Alarm>('POST', `/api/v1/alarms/${calls.b.id}/ack`, undefined, tokens['responder-r']);
    expect(ack.status).toBe(200);
    expect((await server.api('POST', `/api/v1/alarms/${calls.b.id}/snooze`, { minutes: 5 }, tokens['responder-r'])).status).toBe(403);
  });

  it("scope is applied in the query, before the page's limit: another street's newer alarm does not take the operator's page", async () => {
    // A1 (accepted by the family) and B (accepted by the responder, raised later) are both acknowledged.
    const page = await server.api<{ alarms: Alarm[] }>('GET', '/api/v1/alarms?state=acknowledged&limit=1', undefined, tokens['centre-x']);
    expect(page.body.alarms.map((a) => a.id)).toEqual([calls.a1.id]);
    const report = await server.api<{ all: { alarms: number } }>('GET', '/api/v1/reports/response', undefined, tokens['grid-g']);
    expect(report.body.all.alarms).toBe(1);
  });
});

// Site scope on the routes that act on another thing's id (notification receipts, shifts), on the
// live feed's device status, logout, and what is served without a login (issue 14, items 4, 7, 9).
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Alarm, gatewayTopic, type WsMessage } from '../../protocol/index.ts';
import { loadServerConfig } from '../../server/config.ts';
import { FakeClock } from '../helpers/fake-clock.ts';
import { connectAsGateway, type DemoSite, registerSite, Screen, startTestServer, type TestServer, waitFor } from '../helpers/harness.ts';

const PASSWORD = 'correct horse battery';
const clock = new FakeClock(Date.parse('2026-11-23T04:00:00.000Z'));
let server: TestServer;
let siteA: DemoSite;
let siteB: DemoSite;
let gwA: MqttClient;
let gwB: MqttClient;
const tokens: Record<string, string> = {};
let n = 0;

async function login(username: string): Promise<string> {
  const r = await server.api<{ token: string }>('POST', '/api/v1/auth/login', { username, password: PASSWORD }, '');
  expect(r.status).toBe(200);
  return r.body.token;
}

async function raiseCall(site: DemoSite, gw: MqttClient, device: string): Promise<Alarm> {
  n += 1;
  await gw.publishAsync(
    gatewayTopic(site.siteId, site.gatewayId, 'events'),
    JSON.stringify({ v: 1, id: `scope-${n}`, seq: n, ts: clock.iso(), device, type: 'call' }),
    { qos: 1 },
  );
  return waitFor(
    async () =>
      (await server.api<{ alarms: Alarm[] }>('GET', '/api/v1/alarms?state=active')).body.alarms.find((a) => a.deviceId === device),
    `call from ${device}`,
  );
}

type Notification = { id: string; alarmId: string; target: string; state: string };
/** The status of a GET, its body read (an unread body holds the connection, and the server's stop waits for it). */
const httpStatus = async (url: string, headers: Record<string, string> = {}) => {
  const res = await fetch(url, { headers });
  await res.arrayBuffer();
  return res.status;
};

const smsFor = async (alarmId: string) =>
  (await server.api<{ notifications: Notification[] }>('GET', '/api/v1/notifications?channel=sms')).body.notifications.find(
    (x) => x.alarmId === alarmId,
  );

beforeAll(async () => {
  server = await startTestServer(undefined, { clock });
  siteA = await registerSite(server, [{ id: 'btn-sa', kind: 'call_button' }]);
  siteB = await registerSite(server, [{ id: 'btn-sb', kind: 'call_button' }]);
  for (const [site, phone] of [
    [siteA, '+8613800000001'],
    [siteB, '+8613900000002'],
  ] as const) {
    const r = await server.api('PUT', `/api/v1/sites/${site.siteId}/escalation`, {
      levels: [
        { name: 'caregiver', timeoutSeconds: 60, contacts: [] },
        { name: 'family', timeoutSeconds: 600, contacts: [{ kind: 'sms', target: phone }] },
      ],
    });
    expect(r.status).toBe(200);
  }
  for (const u of [
    { username: 'carer-sa', role: 'caregiver', siteId: siteA.siteId },
    { username: 'lead-sa', role: 'nurse_lead', siteId: siteA.siteId },
    { username: 'lead-sb', role: 'nurse_lead', siteId: siteB.siteId },
  ]) {
    expect((await server.api('POST', '/api/v1/users', { ...u, password: PASSWORD })).status).toBe(201);
    tokens[u.username] = await login(u.username);
  }
  gwA = await connectAsGateway(server, siteA);
  gwB = await connectAsGateway(server, siteB);
}, 120_000);
afterAll(async () => {
  await gwA?.endAsync();
  await gwB?.endAsync();
  await server?.stop();
});

describe('notification receipts are scoped by the alarm’s site', () => {
  it("a caregiver of site A cannot accept site B's call (404, escalation not stopped), and never reads the phone number", async () => {
    const callA = await raiseCall(siteA, gwA, 'btn-sa');
    const callB = await raiseCall(siteB, gwB, 'btn-sb');
    clock.advance(61_000);
    await server.tick();
    const smsA = await waitFor(() => smsFor(callA.id), 'sms for site A');
    const smsB = await waitFor(() => smsFor(callB.id), 'sms for site B');

    const foreign = await server.api<Record<string, unknown>>(
      'POST',
      `/api/v1/notifications/${smsB.id}/receipt`,
      { status: 'accepted' },
      tokens['carer-sa'],
    );
    expect(foreign.status).toBe(404);
    expect(JSON.stringify(foreign.body)).not.toContain('+8613900000002');
    // Refused, and counted for the operators: a caregiver poking at other sites' ids is worth seeing.
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/care_security_events_total\{kind="out_of_scope"\} [1-9]/);
    // The same answer as for an id that does not exist: the id is not confirmed.
    const missing = await server.api('POST', '/api/v1/notifications/no-such-id/receipt', { status: 'accepted' }, tokens['carer-sa']);
    expect(missing.status).toBe(404);
    const b = (await server.api<{ alarm: Alarm }>('GET', `/api/v1/alarms/${callB.id}`)).body.alarm;
    expect(b.state).toBe('active');
    expect((await smsFor(callB.id))?.state).toBe('queued');

    // Their own site's call: accepted, and still without the contact's number.
    const own = await server.api<Record<string, unknown>>(
      'POST',
      `/api/v1/notifications/${smsA.id}/receipt`,
      { status: 'accepted' },
      tokens['carer-sa'],
    );
    expect(own.status).toBe(200);
    expect(own.body).toMatchObject({ id: smsA.id, alarmId: callA.id, state: 'accepted' });
    expect(JSON.stringify(own.body)).not.toContain('+8613800000001');
    expect((await server.api<{ alarm: Alarm }>('GET', `/api/v1/alarms/${callA.id}`)).body.alarm.state).toBe('acknowledged');
    // An administrator reads the target.
    const admin = await server.api<{ target?: string }>('POST', `/api/v1/notifications/${smsB.id}/receipt`, { status: 'seen' });
    expect(admin.status).toBe(200);
    expect(admin.body.target).toBe('+8613900000002');
  });
});

describe('contact numbers are for administrators', () => {
  it('staff of the site read who is called in the escalation chain, not the numbers; an administrator reads them', async () => {
    const staff = await server.api<{ levels: Array<{ contacts: Array<{ kind: string; target?: string }> }> }>(
      'GET',
      `/api/v1/sites/${siteA.siteId}/escalation`,
      undefined,
      tokens['lead-sa'],
    );
    expect(staff.status).toBe(200);
    expect(staff.body.levels[1]?.contacts).toEqual([{ kind: 'sms' }]);
    expect(JSON.stringify(staff.body)).not.toContain('+8613800000001');
    const admin = await server.api<{ levels: Array<{ contacts: Array<{ target: string }> }> }>(
      'GET',
      `/api/v1/sites/${siteA.siteId}/escalation`,
    );
    expect(admin.body.levels[1]?.contacts[0]?.target).toBe('+8613800000001');
  });
});

describe('shifts are deleted only within the planner’s site', () => {
  it("a nurse lead of site A gets 404 for site B's shift, which stays; their own is deleted", async () => {
    const users = (await server.api<{ users: Array<{ id: string; username: string }> }>('GET', '/api/v1/users')).body.users;
    const leadB = users.find((u) => u.username === 'lead-sb')?.id as string;
    const leadA = users.find((u) => u.username === 'lead-sa')?.id as string;
    const plan = async (siteId: string, userId: string) =>
      (
        await server.api<{ id: string }>('POST', '/api/v1/shifts', {
          siteId,
          userId,
          start: '2026-11-23T00:00:00.000Z',
          end: '2026-11-23T08:00:00.000Z',
        })
      ).body.id;
    const shiftB = await plan(siteB.siteId, leadB);
    const shiftA = await plan(siteA.siteId, leadA);
    const foreign = await server.api('DELETE', `/api/v1/shifts/${shiftB}`, undefined, tokens['lead-sa']);
    expect(foreign.status).toBe(404);
    const left = (await server.api<{ shifts: Array<{ id: string }> }>('GET', '/api/v1/shifts')).body.shifts.map((s) => s.id);
    expect(left).toContain(shiftB);
    expect((await server.api('DELETE', `/api/v1/shifts/${shiftA}`, undefined, tokens['lead-sa'])).status).toBe(200);
    // Nor can site B's staff be put on duty at site A (the answer is that of an unknown user).
    const borrowed = await server.api<{ message: string }>(
      'POST',
      '/api/v1/shifts',
      { siteId: siteA.siteId, userId: leadB, start: '2026-11-23T00:00:00.000Z', end: '2026-11-23T08:00:00.000Z' },
      tokens['lead-sa'],
    );
    const unknown = await server.api<{ message: string }>(
      'POST',
      '/api/v1/shifts',
      { siteId: siteA.siteId, userId: 'usr-nobody', start: '2026-11-23T00:00:00.000Z', end: '2026-11-23T08:00:00.000Z' },
      tokens['lead-sa'],
    );
    expect([borrowed.status, unknown.status]).toEqual([400, 400]);
    expect(borrowed.body.message.replace(leadB, 'X')).toBe(unknown.body.message.replace('usr-nobody', 'X'));
    expect((await server.api('DELETE', `/api/v1/shifts/${shiftB}`, undefined, tokens['lead-sb'])).status).toBe(200);
  });
});

describe('device status on the live feed is scoped by site', () => {
  it("a caregiver of site A receives site A's device status and battery, never site B's", async () => {
    const carer = await Screen.open(server, undefined, tokens['carer-sa']);
    const admin = await Screen.open(server);
    const status = (site: DemoSite, gw: MqttClient, device: string, battery: number) =>
      gw.publishAsync(
        gatewayTopic(site.siteId, site.gatewayId, 'status'),
        JSON.stringify({ v: 1, state: 'online', ts: clock.iso(), devices: [{ device, lastSeen: clock.iso(), battery }] }),
        { qos: 1, retain: true },
      );
    const statusOf = (s: Screen, gatewayId: string) =>
      s.messages.filter((m): m is Extract<WsMessage, { type: 'device_status' }> => m.type === 'device_status' && m.gatewayId === gatewayId);
    // B first, then A: the feed is in order, so once A's reaches the caregiver, B's would have too.
    await status(siteB, gwB, 'btn-sb', 17);
    await waitFor(() => statusOf(admin, siteB.gatewayId).some((m) => m.battery === 17), "site B's status on the admin screen");
    await status(siteA, gwA, 'btn-sa', 81);
    await waitFor(() => statusOf(carer, siteA.gatewayId).some((m) => m.battery === 81), "site A's status on the caregiver screen");
    expect(statusOf(carer, siteB.gatewayId)).toEqual([]);
    carer.close();
    admin.close();
  });
});

describe('logout', () => {
  it('revokes the token: REST answers 401, a new screen is refused and an open one is closed', async () => {
    const token = await login('carer-sa');
    expect((await server.api('GET', '/api/v1/auth/me', undefined, token)).status).toBe(200);
    const screen = await Screen.open(server, undefined, token);
    const out = await server.api<{ loggedOut: boolean }>('POST', '/api/v1/auth/logout', undefined, token);
    expect(out).toEqual({ status: 200, body: { loggedOut: true } });
    expect((await server.api('GET', '/api/v1/auth/me', undefined, token)).status).toBe(401);
    expect((await server.api('GET', '/api/v1/alarms', undefined, token)).status).toBe(401);
    await waitFor(() => screen.closedWith, 'open screen closed');
    expect(screen.closedWith?.code).toBe(4401);
    await expect(Screen.open(server, undefined, token)).rejects.toThrow(/401/);
    // The same user's other session is untouched.
    expect((await server.api('GET', '/api/v1/auth/me', undefined, tokens['carer-sa'])).status).toBe(200);
    expect((await server.api('POST', '/api/v1/auth/logout', undefined, token)).status).toBe(401);
  });
});

describe('what is served without a login', () => {
  it('the CSP lets pages open WebSockets to their own host only', async () => {
    const res = await fetch(`${server.url}/`);
    await res.arrayBuffer();
    const csp = res.headers.get('content-security-policy') ?? '';
    const connect = (/connect-src ([^;]*)/.exec(csp)?.[1] ?? '').split(/\s+/);
    expect(connect).toContain(`ws://127.0.0.1:${server.httpPort}`);
    expect(connect).not.toContain('ws:');
    expect(connect).not.toContain('wss:');
    expect(connect.every((s) => s === "'self'" || s.endsWith(`//127.0.0.1:${server.httpPort}`))).toBe(true);
  });

  it('on loopback without a token: /metrics, /docs and the source map are served (the defaults off production)', async () => {
    expect(await httpStatus(`${server.url}/metrics`)).toBe(200);
    expect(await httpStatus(`${server.url}/docs/json`)).toBe(200);
    expect(await httpStatus(`${server.url}/app.js.map`)).toBe(200);
  });

  it('with CARE_METRICS_TOKEN, /metrics needs it; CARE_API_DOCS=off and CARE_SOURCE_MAPS=off hide the docs and the source map', async () => {
    const token = 'metrics-token-0123456789';
    const s = await startTestServer(undefined, { env: { CARE_METRICS_TOKEN: token, CARE_API_DOCS: 'off', CARE_SOURCE_MAPS: 'off' } });
    try {
      expect(await httpStatus(`${s.url}/metrics`)).toBe(401);
      expect(await httpStatus(`${s.url}/metrics`, { authorization: 'Bearer wrong-token-0123456789' })).toBe(401);
      // A user's login token is not the metrics token.
      expect(await httpStatus(`${s.url}/metrics`, { authorization: `Bearer ${s.token}` })).toBe(401);
      const ok = await fetch(`${s.url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
      expect(ok.status).toBe(200);
      expect(await ok.text()).toContain('care_');
      for (const p of ['/docs', '/docs/json', '/docs/static/index.html', '/app.js.map'])
        expect(await httpStatus(`${s.url}${p}`), p).toBe(404);
      expect(await httpStatus(`${s.url}/app.js`)).toBe(200);
    } finally {
      await s.stop();
    }
  });

  it('listening beyond loopback without a token, /metrics is not served', async () => {
    const s = await startTestServer(undefined, { env: { CARE_BIND_HOST: '0.0.0.0' } });
    try {
      expect(await httpStatus(`${s.url}/metrics`)).toBe(404);
      expect(await httpStatus(`${s.url}/healthz`)).toBe(200);
    } finally {
      await s.stop();
    }
  });

  it('source maps are off by default in production, docs on; a bad value or a short token stops the start', () => {
    expect(loadServerConfig({ NODE_ENV: 'production' }).exposure).toEqual({
      metricsToken: null,
      metricsWithoutToken: false,
      apiDocs: true,
      sourceMaps: false,
    });
    expect(loadServerConfig({ CARE_BIND_HOST: '::1' }).exposure.metricsWithoutToken).toBe(true);
    expect(() => loadServerConfig({ CARE_API_DOCS: 'yes' })).toThrow('CARE_API_DOCS');
    expect(() => loadServerConfig({ CARE_METRICS_TOKEN: 'short' })).toThrow('CARE_METRICS_TOKEN');
  });
});

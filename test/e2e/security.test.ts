// Security and privacy at the HTTP and WebSocket edges, and gateway credentials: each bad attempt
// gets a clear refusal, and the server keeps serving.
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type Alarm, gatewayTopic } from '../../protocol/index.ts';
import { FakeClock } from '../helpers/fake-clock.ts';
import { ADMIN_PASSWORD, type DemoSite, registerSite, Screen, startTestServer, type TestServer, waitFor } from '../helpers/harness.ts';

let server: TestServer;
let siteA: DemoSite;
let siteB: DemoSite;
const tokens: Record<string, string> = {};

async function login(username: string, password: string) {
  return server.api<{ token: string; message?: string }>('POST', '/api/v1/auth/login', { username, password }, '');
}

async function raise(site: DemoSite, device: string, type = 'call') {
  const c = await mqtt.connectAsync(server.mqttUrl, {
    clientId: site.gatewayId,
    username: site.gatewayId,
    password: site.secret,
    reconnectPeriod: 0,
  });
  await c.publishAsync(
    gatewayTopic(site.siteId, site.gatewayId, 'events'),
    JSON.stringify({ v: 1, id: `e-${Math.random().toString(36).slice(2)}`, seq: 1, ts: new Date().toISOString(), device, type }),
    { qos: 1 },
  );
  await c.endAsync();
  return waitFor(
    async () => (await server.api<{ alarms: Alarm[] }>('GET', '/api/v1/alarms')).body.alarms.find((a) => a.deviceId === device),
    'alarm',
  );
}

beforeAll(async () => {
  server = await startTestServer();
  siteA = await registerSite(server, [{ id: 'btn-a', kind: 'call_button' }]);
  siteB = await registerSite(server, [{ id: 'btn-b', kind: 'call_button' }]);
  const users = [
    { username: 'carer-a', role: 'caregiver', siteId: siteA.siteId },
    { username: 'family-a', role: 'family', residentId: siteA.residentId },
  ];
  for (const u of users) {
    const r = await server.api('POST', '/api/v1/users', { ...u, password: 'correct horse battery' });
    expect(r.status).toBe(201);
    tokens[u.username] = (await login(u.username, 'correct horse battery')).body.token;
  }
  await raise(siteA, 'btn-a');
  await raise(siteB, 'btn-b');
});
afterAll(async () => {
  await server?.stop();
});

describe('HTTP authentication', () => {
  it('a wrong password and an unknown user get the same refusal', async () => {
    const a = await login('admin', 'wrong');
    const b = await login('nobody', 'wrong');
    expect(a.status).toBe(401);
    expect(b.status).toBe(401);
    expect(a.body.message).toBe(b.body.message);
  });

  it('a missing or made-up token is refused', async () => {
    expect((await server.api('GET', '/api/v1/alarms', undefined, '')).status).toBe(401);
    expect((await server.api('GET', '/api/v1/alarms', undefined, 'made-up')).status).toBe(401);
  });

  it('repeated logins for one account are rate limited', async () => {
    const limited = await startTestServer(undefined, { env: { CARE_LOGIN_RATE_LIMIT: '3' } });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 5; i += 1) {
        const r = await fetch(`${limited.url}/api/v1/auth/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ username: 'nurse-x', password: 'guess' }),
        });
        statuses.push(r.status);
      }
      expect(statuses).toEqual([401, 401, 401, 429, 429]);
    } finally {
      await limited.stop();
    }
  });

  it('a token stops working when it expires', async () => {
    const clock = new FakeClock();
    const timed = await startTestServer(undefined, { clock, env: { CARE_TOKEN_TTL_MINUTES: '30' } });
    try {
      expect((await timed.api('GET', '/api/v1/alarms')).status).toBe(200);
      clock.advance(31 * 60_000);
      expect((await timed.api('GET', '/api/v1/alarms')).status).toBe(401);
    } finally {
      await timed.stop();
    }
  });

  it('an oversized body is refused with 413', async () => {
    const r = await server.api('POST', '/api/v1/sites', { name: 'x'.repeat(100_000), kind: 'nursing_home' });
    expect(r.status).toBe(413);
  });

  it('unknown fields in a body are refused', async () => {
    const r = await server.api('POST', '/api/v1/sites', { name: 'x', kind: 'nursing_home', isAdmin: true });
    expect(r.status).toBe(400);
  });
});

describe('scoping', () => {
  it("a caregiver of site A sees only site A's alarms and cannot act on site B's", async () => {
    const list = await server.api<{ alarms: Alarm[] }>('GET', '/api/v1/alarms', undefined, tokens['carer-a']);
    expect(list.body.alarms.map((a) => a.deviceId)).toEqual(['btn-a']);
    const all = await server.api<{ alarms: Alarm[] }>('GET', '/api/v1/alarms');
    const b = all.body.alarms.find((a) => a.deviceId === 'btn-b') as Alarm;
    expect((await server.api('POST', `/api/v1/alarms/${b.id}/ack`, undefined, tokens['carer-a'])).status).toBe(404);
    expect((await server.api('GET', `/api/v1/residents/${siteB.residentId}`, undefined, tokens['carer-a'])).status).toBe(404);
    expect((await server.api('POST', '/api/v1/sites', { name: 'x', kind: 'nursing_home' }, tokens['carer-a'])).status).toBe(403);
  });

  it('a family member sees only their relative and cannot resolve (they may accept: issue 15)', async () => {
    const list = await server.api<{ alarms: Alarm[] }>('GET', '/api/v1/alarms', undefined, tokens['family-a']);
    expect(list.body.alarms.map((a) => a.residentId)).toEqual([siteA.residentId]);
    expect((await server.api('POST', `/api/v1/alarms/${list.body.alarms[0]?.id}/resolve`, {}, tokens['family-a'])).status).toBe(403);
    expect((await server.api('POST', `/api/v1/alarms/${list.body.alarms[0]?.id}/snooze`, { minutes: 5 }, tokens['family-a'])).status).toBe(
      403,
    );
    expect((await server.api('GET', `/api/v1/residents/${siteB.residentId}`, undefined, tokens['family-a'])).status).toBe(404);
    const screen = await Screen.open(server, undefined, tokens['family-a']);
    const snap = screen.messages[0];
    expect(snap?.type === 'snapshot' && snap.alarms.map((a) => a.residentId)).toEqual([siteA.residentId]);
    await raise(siteB, 'btn-b', 'fall');
    await raise(siteA, 'btn-a', 'fall');
    await screen.waitForAlarm((a) => a.deviceId === 'btn-a' && a.type === 'fall');
    expect(screen.alarmMessages().some((a) => a.deviceId === 'btn-b')).toBe(false);
    screen.close();
  });

  it("reads of a resident's data are audited", async () => {
    await server.api('GET', `/api/v1/residents/${siteA.residentId}/telemetry?metric=heart_rate`, undefined, tokens['family-a']);
    const audit = await server.api<{ entries: Array<{ actor: string; action: string; subject: string }> }>(
      'GET',
      '/api/v1/audit?action=view.resident',
    );
    expect(audit.body.entries).toContainEqual(expect.objectContaining({ actor: 'family-a', subject: siteA.residentId }));
  });
});

describe('WebSocket', () => {
  it('refuses a page from another origin', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.httpPort}/ws?token=${server.token}`, { origin: 'https://evil.example' });
    const status = await new Promise<number>((resolve) => ws.once('unexpected-response', (_q, res) => resolve(res.statusCode ?? 0)));
    expect(status).toBe(403);
  });

  it('closes a connection that sends an oversized frame', async () => {
    const screen = await Screen.open(server);
    screen.ws.send('x'.repeat(100_000));
    await waitFor(() => screen.closedWith, 'close');
    expect(screen.closedWith?.code).toBe(1009);
  });
});

describe('gateway credentials', () => {
  it('rotation refuses the old secret and accepts the new one; revocation refuses both', async () => {
    const site = await registerSite(server, [{ id: 'btn-r', kind: 'call_button' }]);
    const rotated = await server.api<{ secret: string }>('POST', `/api/v1/gateways/${site.gatewayId}/secret`);
    expect(rotated.status).toBe(200);
    const connect = (password: string) =>
      mqtt
        .connectAsync(server.mqttUrl, { clientId: site.gatewayId, username: site.gatewayId, password, reconnectPeriod: 0 })
        .then(async (c) => {
          await c.endAsync();
          return 'connected';
        })
        .catch(() => 'refused');
    expect(await connect(site.secret)).toBe('refused');
    expect(await connect(rotated.body.secret)).toBe('connected');
    expect((await server.api('DELETE', `/api/v1/gateways/${site.gatewayId}/secret`)).status).toBe(200);
    expect(await connect(rotated.body.secret)).toBe('refused');
  });

  it('an oversized MQTT payload disconnects the gateway and is counted', async () => {
    const c = await mqtt.connectAsync(server.mqttUrl, {
      clientId: siteA.gatewayId,
      username: siteA.gatewayId,
      password: siteA.secret,
      reconnectPeriod: 0,
    });
    const closed = new Promise<void>((r) => c.once('close', () => r()));
    c.publish(gatewayTopic(siteA.siteId, siteA.gatewayId, 'telemetry'), Buffer.alloc(1100 * 1024, 0x20), { qos: 1 });
    await closed;
    c.end(true);
    const text = await (await fetch(`${server.url}/metrics`)).text();
    expect(text).toMatch(/care_security_events_total\{kind="oversized"\} [1-9]/);
    expect((await login('admin', ADMIN_PASSWORD)).status).toBe(200);
  });
});

describe('privacy', () => {
  it("exports and then deletes one resident's data", async () => {
    const exported = await server.api<{ resident: { id: string }; alarms: Alarm[] }>('GET', `/api/v1/residents/${siteA.residentId}/export`);
    expect(exported.body.resident.id).toBe(siteA.residentId);
    expect(exported.body.alarms.length).toBeGreaterThan(0);
    expect((await server.api('DELETE', `/api/v1/residents/${siteA.residentId}`)).status).toBe(200);
    expect((await server.api('GET', `/api/v1/residents/${siteA.residentId}`)).status).toBe(404);
    const alarms = await server.api<{ alarms: Alarm[] }>('GET', '/api/v1/alarms');
    expect(alarms.body.alarms.filter((a) => a.deviceId === 'btn-a').every((a) => a.residentId === null)).toBe(true);
  });
});

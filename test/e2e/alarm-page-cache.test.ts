// GET /api/v1/alarms is answered from a page kept per caller until an alarm changes
// (server/http/alarm-page-cache.ts). What matters is that no change is ever hidden by it: a new
// alarm, an acknowledgement, and another account's scope. Real server, broker and screen.
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Alarm, gatewayTopic } from '../../protocol/index.ts';
import { connectAsGateway, type DemoSite, registerSite, Screen, startTestServer, type TestServer } from '../helpers/harness.ts';

let server: TestServer;
let site: DemoSite;
let other: DemoSite;
let gw: MqttClient;
let screen: Screen;
let n = 0;

const list = async (token?: string) => (await server.api<{ alarms: Alarm[] }>('GET', '/api/v1/alarms', undefined, token)).body.alarms;

beforeAll(async () => {
  server = await startTestServer();
  site = await registerSite(server);
  other = await registerSite(server, [{ id: 'btn-b-203', kind: 'call_button' }]);
  gw = await connectAsGateway(server, site);
  screen = await Screen.open(server);
}, 60_000);
afterAll(async () => {
  screen?.close();
  await gw?.endAsync();
  await server?.stop();
});

async function call(device: string): Promise<Alarm> {
  n += 1;
  await gw.publishAsync(
    gatewayTopic(site.siteId, site.gatewayId, 'events'),
    JSON.stringify({ v: 1, id: `cache-${n}`, seq: n, ts: new Date().toISOString(), device, type: 'call' }),
    { qos: 1 },
  );
  return screen.waitForAlarm((a) => a.deviceId === device && a.state === 'active', `call from ${device}`);
}

describe('the alarm list served from its cache', () => {
  it('shows a new alarm and an acknowledgement in the very next read after the screen has them', async () => {
    const before = await list();
    expect(await list()).toEqual(before); // the second read is the kept page
    const raised = await call('page-cache-1');
    // No polling: the first read after the screen got it must have it.
    expect((await list()).map((a) => a.id)).toContain(raised.id);
    const ack = await server.api<Alarm>('POST', `/api/v1/alarms/${raised.id}/ack`);
    expect(ack.status).toBe(200);
    expect((await list()).find((a) => a.id === raised.id)?.state).toBe('acknowledged');
  });

  it('sends a kept page as the same UTF-8 JSON as a fresh one (its length in bytes, not characters)', async () => {
    await call('btn-203'); // registered to 王秀英's room
    const read = async () => {
      const res = await fetch(`${server.url}/api/v1/alarms`, { headers: { authorization: `Bearer ${server.token}` } });
      const bytes = Buffer.from(await res.arrayBuffer());
      return { type: res.headers.get('content-type'), length: Number(res.headers.get('content-length')), bytes };
    };
    const fresh = await read();
    const kept = await read();
    expect(fresh.bytes.toString('utf8')).toContain('王秀英'); // the resident's name: 3 bytes a character
    expect(kept.type).toBe('application/json; charset=utf-8');
    expect(kept.length).toBe(kept.bytes.length);
    expect(kept.bytes.equals(fresh.bytes)).toBe(true);
    expect(fresh.length).toBe(fresh.bytes.length);
  });

  it("never hands one account's page to another", async () => {
    const made = await server.api('POST', '/api/v1/users', {
      username: 'cache-b-caregiver',
      password: 'correct horse battery',
      role: 'caregiver',
      siteId: other.siteId,
    });
    expect(made.status).toBe(201);
    const login = await server.api<{ token: string }>('POST', '/api/v1/auth/login', {
      username: 'cache-b-caregiver',
      password: 'correct horse battery',
    });
    await call('page-cache-2');
    // Back to back, well inside a kept page's lifetime: the admin's page is kept, and must not be
    // what site B's caregiver gets.
    const admin = await list();
    const theirs = await list(login.body.token);
    expect(admin.some((a) => a.siteId === site.siteId)).toBe(true);
    expect(theirs.filter((a) => a.siteId === site.siteId)).toEqual([]);
  });
});

// Response KPIs, and events whose device clock is far off: alarmed on all the same, and flagged.
import path from 'node:path';
import SQLite from 'better-sqlite3';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Alarm, gatewayTopic } from '../../protocol/index.ts';
import { FakeClock } from '../helpers/fake-clock.ts';
import { connectAsGateway, type DemoSite, registerSite, startTestServer, type TestServer, waitFor } from '../helpers/harness.ts';

const clock = new FakeClock(Date.parse('2026-11-23T02:00:00.000Z'));
let server: TestServer;
let site: DemoSite;
let gw: MqttClient;
let n = 0;

async function raise(device: string, type: string, ts = clock.iso()): Promise<Alarm> {
  n += 1;
  await gw.publishAsync(
    gatewayTopic(site.siteId, site.gatewayId, 'events'),
    JSON.stringify({ v: 1, id: `r-${n}`, seq: n, ts, device, type }),
    { qos: 1 },
  );
  return waitFor(
    async () =>
      (await server.api<{ alarms: Alarm[] }>('GET', '/api/v1/alarms?state=active')).body.alarms.find(
        (a) => a.deviceId === device && a.type === type,
      ),
    `${type} alarm`,
  );
}

beforeAll(async () => {
  server = await startTestServer(undefined, { clock });
  site = await registerSite(server);
  gw = await connectAsGateway(server, site);
});
afterAll(async () => {
  await gw?.endAsync();
  await server?.stop();
});

describe('response KPIs', () => {
  it('reports time to acknowledge and resolve, calls answered within 60 s and 3 min, and false alarms', async () => {
    const a = await raise('btn-203', 'call');
    clock.advance(30_000);
    await server.api('POST', `/api/v1/alarms/${a.id}/ack`);
    clock.advance(60_000);
    await server.api('POST', `/api/v1/alarms/${a.id}/resolve`, { outcome: 'false_alarm' });
    const b = await raise('radar-203', 'call');
    clock.advance(120_000);
    await server.api('POST', `/api/v1/alarms/${b.id}/ack`);
    clock.advance(60_000);
    await server.api('POST', `/api/v1/alarms/${b.id}/resolve`, { outcome: 'assisted' });

    const r = await server.api<{ all: Record<string, number | null> }>('GET', '/api/v1/reports/response');
    expect(r.body.all).toMatchObject({
      alarms: 2,
      calls: 2,
      ackSecondsP50: 30,
      ackSecondsP90: 120,
      resolveSecondsP50: 90,
      callsAckWithin60sPercent: 50,
      callsAckWithin180sPercent: 100,
      falseAlarmPercent: 50,
    });
    const shifts = await server.api<{ shifts: unknown[] }>('GET', '/api/v1/reports/response');
    expect(shifts.body.shifts).toEqual([]);
    const csv = await fetch(`${server.url}/api/v1/reports/response?format=csv`, { headers: { authorization: `Bearer ${server.token}` } });
    expect(csv.headers.get('content-type')).toMatch(/text\/csv/);
    const lines = (await csv.text()).trim().split('\n');
    expect(lines[0]).toMatch(/^siteId,alarms,ackSecondsP50/);
    expect(lines[1]).toMatch(/^all,2,30,120,/);
  });
});

describe('device clocks', () => {
  it('an event with a wild timestamp is still alarmed on, and flagged', async () => {
    const wild = await raise('bed-203', 'fall', '2031-01-01T00:00:00.000Z');
    const detail = await server.api<{ history: Array<{ action: string; detail: { wildTimestamp?: string } }> }>(
      'GET',
      `/api/v1/alarms/${wild.id}`,
    );
    expect(detail.body.history[0]?.detail.wildTimestamp).toBe('2031-01-01T00:00:00.000Z');
    expect(wild.lastEventAt).toBe(clock.iso());
  });
});

describe('KPIs per shift', () => {
  it('groups the alarms raised inside each shift, in the area it covers', async () => {
    const users = await server.api<{ users: Array<{ id: string; username: string }> }>('GET', '/api/v1/users');
    const admin = users.body.users.find((u) => u.username === 'admin') as { id: string };
    await server.api('POST', '/api/v1/shifts', {
      siteId: site.siteId,
      userId: admin.id,
      rooms: ['203'],
      start: '2026-11-23T01:00:00.000Z',
      end: '2026-11-23T09:00:00.000Z',
    });
    const r = await server.api<{ shifts: Array<{ userId: string; alarms: number; calls: number }> }>('GET', '/api/v1/reports/response');
    expect(r.body.shifts).toEqual([expect.objectContaining({ userId: admin.id, calls: 2 })]);
  });
});

describe('report scope', () => {
  it("a flood of another site's alarms does not push a site's own alarms out of its caregiver's report", async () => {
    const other = await registerSite(server, [{ id: 'btn-flood', kind: 'call_button' }]);
    const user = await server.api('POST', '/api/v1/users', {
      username: 'report-carer',
      password: 'report-carer-password',
      role: 'caregiver',
      siteId: site.siteId,
    });
    expect(user.status).toBe(201);
    const login = await server.api<{ token: string }>('POST', '/api/v1/auth/login', {
      username: 'report-carer',
      password: 'report-carer-password',
    });
    const report = () => server.api<{ all: { alarms: number } }>('GET', '/api/v1/reports/response', undefined, login.body.token);
    const before = (await report()).body.all.alarms;
    // 200,001 resolved alarms of the other site in the period, written straight into the database
    // (the report reads at most 200,000 alarms of a period).
    const db = new SQLite(path.join(server.dataDir, 'care.db'));
    db.pragma('busy_timeout = 10000');
    db.prepare(
      `insert into alarms (id, type, priority, state, site_id, gateway_id, device_id, resident_id, room, raised_at,
         last_event_at, ack_at, ack_by, resolved_at, resolved_by, escalation_level, count, cause_key, unregistered)
       with recursive n(i) as (select 1 union all select i + 1 from n where i < 200001)
       select 'flood-' || i, 'call', 'high', 'resolved', ?, ?, 'btn-flood', null, null, ?, ?, ?, 'x', ?, 'x', 0, 1,
         'flood-' || i, 1 from n`,
    ).run(other.siteId, other.gatewayId, ...Array(4).fill(new Date(clock.now() - 3600_000).toISOString()));
    db.close();
    // Raised after the flood: read in insertion order, it would be the one left out.
    const own = await raise('btn-203', 'call');
    await server.api('POST', `/api/v1/alarms/${own.id}/ack`);
    await server.api('POST', `/api/v1/alarms/${own.id}/resolve`, { outcome: 'assisted' });
    const r = await report();
    expect(r.status).toBe(200);
    expect(r.body.all.alarms).toBe(before + 1);
    // An administrator asking for one site gets that site's figures, whatever the other site holds.
    const forSite = await server.api<{ all: { alarms: number } }>('GET', `/api/v1/reports/response?siteId=${site.siteId}`);
    expect(forSite.body.all.alarms).toBe(before + 1);
  }, 120_000);
});

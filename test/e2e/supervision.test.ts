// Supervision from the moment of registration, on the fake clock: a gateway or device that is
// registered and never heard is flagged once its silence limit and the site's commissioning grace
// have passed, and clears when heard; a gateway that publishes events but no status is heard.
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Alarm, gatewayTopic } from '../../protocol/index.ts';
import { FakeClock } from '../helpers/fake-clock.ts';
import { connectAsGateway, type DemoSite, registerSite, startTestServer, type TestServer, waitFor } from '../helpers/harness.ts';

const clock = new FakeClock(Date.parse('2026-11-23T08:00:00.000Z'));
let server: TestServer;
let site: DemoSite;
let gw: MqttClient;
let seq = 0;

async function alarms(pred: (a: Alarm) => boolean): Promise<Alarm[]> {
  return (await server.api<{ alarms: Alarm[] }>('GET', '/api/v1/alarms')).body.alarms.filter(pred);
}
async function gatewayState(id: string) {
  return (await server.api<{ state: string; lastSeen: string | null }>('GET', `/api/v1/gateways/${id}`)).body;
}
/** Moves the fake clock on in steps, the site's gateway sending its 30 s status heartbeat. */
async function passTime(ms: number, heartbeat = true) {
  for (let done = 0; done < ms; done += 30_000) {
    clock.advance(Math.min(30_000, ms - done));
    if (heartbeat) {
      await gw.publishAsync(
        gatewayTopic(site.siteId, site.gatewayId, 'status'),
        JSON.stringify({ v: 1, state: 'online', ts: clock.iso() }),
        {
          qos: 1,
          retain: true,
        },
      );
      await waitFor(async () => (await gatewayState(site.gatewayId)).state === 'online', 'heartbeat taken');
    }
    await server.tick();
  }
}
async function publishEvent(client: MqttClient, s: Pick<DemoSite, 'siteId' | 'gatewayId'>, device: string, type: string) {
  seq += 1;
  await client.publishAsync(
    gatewayTopic(s.siteId, s.gatewayId, 'events'),
    JSON.stringify({ v: 1, id: `evt-sup-${seq}`, seq, ts: clock.iso(), device, type }),
    { qos: 1 },
  );
}

beforeAll(async () => {
  server = await startTestServer(undefined, { clock });
  site = await registerSite(server, [
    { id: 'radar-301', kind: 'fall_detector' },
    { id: 'btn-301', kind: 'call_button' },
  ]);
  gw = await connectAsGateway(server, site);
});
afterAll(async () => {
  await gw?.endAsync();
  await server?.stop();
});

describe('supervision from registration', () => {
  it('the commissioning grace is a site setting, one hour by default', async () => {
    const before = await server.api('GET', `/api/v1/sites/${site.siteId}/supervision`);
    expect(before).toMatchObject({ status: 200, body: { commissioningGraceMinutes: 60, default: true } });
    const put = await server.api('PUT', `/api/v1/sites/${site.siteId}/supervision`, { commissioningGraceMinutes: 10 });
    expect(put).toMatchObject({ status: 200, body: { commissioningGraceMinutes: 10, default: false } });
    expect((await server.api('PUT', `/api/v1/sites/${site.siteId}/supervision`, { commissioningGraceMinutes: -1 })).status).toBe(400);
    expect((await server.api('PUT', '/api/v1/sites/nope/supervision', { commissioningGraceMinutes: 5 })).status).toBe(404);
  });

  it('a registered device never heard is flagged after its interval plus the grace, and clears when heard', async () => {
    // The fall radar's limit is 5 min; with the 10 min grace, 14 min pass quietly.
    await passTime(14 * 60_000);
    expect(await alarms((a) => a.type === 'device_offline')).toEqual([]);
    await passTime(2 * 60_000);
    const offline = await waitFor(
      async () => (await alarms((a) => a.type === 'device_offline' && a.deviceId === 'radar-301'))[0],
      'never-heard radar flagged',
    );
    expect(offline).toMatchObject({ state: 'active', priority: 'low', gatewayId: site.gatewayId });
    // The call button's limit is a day: not flagged yet.
    expect(await alarms((a) => a.type === 'device_offline' && a.deviceId === 'btn-301')).toEqual([]);

    await publishEvent(gw, site, 'radar-301', 'presence');
    await waitFor(async () => (await alarms((a) => a.id === offline.id))[0]?.state === 'resolved', 'the radar heard: its alarm cleared');
  });

  it('a registered gateway never heard is flagged gateway_offline after its silence limit plus the grace', async () => {
    const quiet = await server.api<{ id: string; secret: string }>('POST', '/api/v1/gateways', { siteId: site.siteId, name: 'Floor 3' });
    await passTime(9 * 60_000);
    expect(await alarms((a) => a.type === 'gateway_offline' && a.gatewayId === quiet.body.id)).toEqual([]);
    await passTime(3 * 60_000);
    const alarm = await waitFor(
      async () => (await alarms((a) => a.type === 'gateway_offline' && a.gatewayId === quiet.body.id))[0],
      'never-heard gateway flagged',
    );
    expect(alarm).toMatchObject({ state: 'active', priority: 'medium', siteId: site.siteId });
    expect((await gatewayState(quiet.body.id)).state).toBe('offline');
  });

  it('a gateway that publishes events but no status counts as heard: it is online, and offline once it falls silent', async () => {
    const g = await server.api<{ id: string; secret: string }>('POST', '/api/v1/gateways', { siteId: site.siteId, name: 'Floor 4' });
    const eventsOnly = await connectAsGateway(server, { gatewayId: g.body.id, secret: g.body.secret });
    try {
      await publishEvent(eventsOnly, { siteId: site.siteId, gatewayId: g.body.id }, 'sos-401', 'call');
      await waitFor(async () => (await alarms((a) => a.type === 'call' && a.gatewayId === g.body.id)).length === 1, 'the call');
      await server.tick();
      expect(await gatewayState(g.body.id)).toMatchObject({ state: 'online', lastSeen: clock.iso() });
      // Silent past its limit (80 s): flagged, as any gateway that went quiet.
      await passTime(120_000);
      await waitFor(async () => (await alarms((a) => a.type === 'gateway_offline' && a.gatewayId === g.body.id)).length === 1, 'silent');
      // Heard again through an event: back online, its alarm cleared.
      await publishEvent(eventsOnly, { siteId: site.siteId, gatewayId: g.body.id }, 'sos-401', 'call');
      await waitFor(async () => (await alarms((a) => a.type === 'call' && a.gatewayId === g.body.id))[0]?.count === 2, 'the second call');
      await server.tick();
      expect((await gatewayState(g.body.id)).state).toBe('online');
      expect((await alarms((a) => a.type === 'gateway_offline' && a.gatewayId === g.body.id))[0]?.state).toBe('resolved');
    } finally {
      await eventsOnly.endAsync();
    }
  });
});

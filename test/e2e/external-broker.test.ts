// External broker mode: two server instances join a real Mosquitto 2 (Debian's package) as clients,
// share ingest through `$share/` subscriptions and share state in PostgreSQL. Gateway credentials
// and ACLs are provisioned into Mosquitto's dynamic-security plugin, so the broker refuses what the
// embedded one would. Every event is handled exactly once across the instances, and every screen
// sees every alarm whichever instance it is connected to.
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningGateway } from '../../gateway/gateway.ts';
import { type Alarm, gatewayTopic } from '../../protocol/index.ts';
import { type DemoSite, registerSite, Screen, startTestGateway, startTestServer, type TestServer, waitFor } from '../helpers/harness.ts';
import { type Mosquitto, mosquittoAvailable, startMosquitto } from '../helpers/mosquitto.ts';
import { type Postgres, postgresBin, startPostgres } from '../helpers/postgres.ts';
import { requireComponent } from '../helpers/require-component.ts';

const available = requireComponent('mosquitto', mosquittoAvailable()) && requireComponent('postgresql', postgresBin() !== null);

describe.skipIf(!available)('external broker mode (Mosquitto + PostgreSQL, two instances)', () => {
  let broker: Mosquitto;
  let pgServer: Postgres;
  let a: TestServer;
  let b: TestServer;
  let site: DemoSite;
  let gateway: RunningGateway;

  beforeAll(async () => {
    broker = await startMosquitto();
    pgServer = await startPostgres();
    const env = { CARE_DATABASE_URL: pgServer.url, CARE_MQTT_URL: broker.adminUrl };
    a = await startTestServer(undefined, { env });
    b = await startTestServer(undefined, { env });
    // Gateways connect to the external broker, not to either server.
    a.mqttUrl = `mqtt://127.0.0.1:${broker.port}`;
    site = await registerSite(a);
    gateway = await startTestGateway(a, site);
  }, 120_000);
  afterAll(async () => {
    await gateway?.stop();
    await a?.stop();
    await b?.stop();
    await broker?.stop();
    pgServer?.stop();
  });

  it('events split across both instances are each stored once, and both screens see the alarms', async () => {
    const screenA = await Screen.open(a);
    const screenB = await Screen.open(b);
    for (let i = 0; i < 60; i += 1) gateway.sink.event({ device: 'btn-203', type: 'call' });
    await waitFor(() => gateway.outboxDepth().events === 0, 'every event confirmed', 20_000);
    const call = await waitFor(
      async () => (await a.api<{ alarms: Alarm[] }>('GET', '/api/v1/alarms')).body.alarms.find((x) => x.type === 'call' && x.count === 60),
      'one call alarm counting all 60 events',
    );
    await screenA.waitForAlarm((x) => x.id === call.id && x.count === 60);
    await screenB.waitForAlarm((x) => x.id === call.id && x.count === 60);
    // Both instances did part of the work.
    const stored = async (s: TestServer) => {
      const text = await (await fetch(`${s.url}/metrics`)).text();
      return Number(/care_ingest_events_total\{outcome="stored"\} (\d+)/.exec(text)?.[1] ?? 0);
    };
    const [sa, sb] = [await stored(a), await stored(b)];
    expect(sa + sb).toBe(60);
    expect(sa).toBeGreaterThan(0);
    expect(sb).toBeGreaterThan(0);
    screenA.close();
    screenB.close();
  });

  it('one instance stops mid-stream: the other takes all ingest and nothing is lost', async () => {
    const screenB = await Screen.open(b);
    for (let i = 0; i < 20; i += 1) gateway.sink.event({ device: 'radar-203', type: 'fall' });
    await a.stop();
    for (let i = 0; i < 20; i += 1) gateway.sink.event({ device: 'radar-203', type: 'fall' });
    // Whatever A took but never committed stays unconfirmed; the gateway resends it to B.
    await waitFor(() => gateway.outboxDepth().events === 0, 'every event confirmed', 40_000);
    const fall = await screenB.waitForAlarm((x) => x.type === 'fall' && x.count === 40);
    expect(fall.count).toBe(40);
    screenB.close();
  }, 60_000);

  it('the broker killed and restarted: the server and the gateway reconnect, screens resync, alarms flow again', {
    timeout: 60_000,
  }, async () => {
    const screenB = await Screen.open(b);
    const snapshots = () => screenB.messages.filter((m) => m.type === 'snapshot').length;
    await broker.restart();
    // The bus went through the broker: what crossed meanwhile may be lost, so the screen resyncs.
    await waitFor(() => snapshots() >= 2, 'screen resynced after the broker came back', 20_000);
    await waitFor(() => gateway.uplinkConnected(), 'gateway back on the broker', 20_000);
    gateway.sink.event({ device: 'btn-203', type: 'tamper' });
    await screenB.waitForAlarm((x) => x.type === 'tamper' && x.deviceId === 'btn-203', 'alarm after the restart');
    await waitFor(() => gateway.outboxDepth().events === 0, 'confirmed after the restart', 20_000);
    screenB.close();
  });

  it('the broker refuses anonymous clients, wrong secrets and foreign topics', async () => {
    const url = `mqtt://127.0.0.1:${broker.port}`;
    const tryConnect = (opts: mqtt.IClientOptions) =>
      mqtt
        .connectAsync(url, { reconnectPeriod: 0, connectTimeout: 3000, ...opts })
        .then(async (c) => {
          await c.endAsync();
          return 'connected';
        })
        .catch(() => 'refused');
    expect(await tryConnect({ clientId: 'anon' })).toBe('refused');
    expect(await tryConnect({ clientId: site.gatewayId, username: site.gatewayId, password: 'wrong' })).toBe('refused');

    const other = await registerSite(b, [{ id: 'btn-x', kind: 'call_button' }]);
    const c = await mqtt.connectAsync(url, {
      clientId: other.gatewayId,
      username: other.gatewayId,
      password: other.secret,
      reconnectPeriod: 0,
    });
    // Publishing into another gateway's prefix: Mosquitto drops it (MQTT 3.1.1 has no refusal code).
    await c.publishAsync(
      gatewayTopic(site.siteId, site.gatewayId, 'events'),
      JSON.stringify({ v: 1, id: 'forged-ext', seq: 1, ts: new Date().toISOString(), device: 'radar-203', type: 'tamper' }),
      { qos: 1 },
    );
    await expect(c.subscribeAsync('care/v1/#', { qos: 1 })).rejects.toThrow();
    // A valid event of its own still goes through, after the forged one.
    await c.publishAsync(
      gatewayTopic(other.siteId, other.gatewayId, 'events'),
      JSON.stringify({ v: 1, id: 'own-ext', seq: 2, ts: new Date().toISOString(), device: 'btn-x', type: 'call' }),
      { qos: 1 },
    );
    await waitFor(
      async () => (await b.api<{ alarms: Alarm[] }>('GET', '/api/v1/alarms')).body.alarms.find((x) => x.deviceId === 'btn-x'),
      'own event',
    );
    const all = await b.api<{ alarms: Alarm[] }>('GET', '/api/v1/alarms');
    expect(all.body.alarms.find((x) => x.deviceId === 'radar-203' && x.type === 'tamper')).toBeUndefined();
    await c.endAsync();
  });
});

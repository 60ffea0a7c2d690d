// Bad input at the MQTT edge: refused clients, malformed and schema-violating payloads, forged
// topics and device ids, replayed events. Each gets a clear refusal and a count; nothing valid is
// lost with it. Real broker, real MQTT clients.
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Alarm, gatewayTopic } from '../../protocol/index.ts';
import { type DemoSite, registerSite, startTestServer, type TestServer, waitFor } from '../helpers/harness.ts';

let server: TestServer;
let site: DemoSite;
let other: DemoSite;
let client: MqttClient;

function connect(opts: mqtt.IClientOptions): Promise<{ client: MqttClient } | { error: Error & { code?: number } }> {
  return new Promise((resolve) => {
    const c = mqtt.connect(server.mqttUrl, { reconnectPeriod: 0, connectTimeout: 5000, ...opts });
    c.once('connect', () => resolve({ client: c }));
    c.once('error', (error) => {
      c.end(true);
      resolve({ error });
    });
    // Some refusals close the socket without a CONNACK.
    c.once('close', () => resolve({ error: new Error('connection closed by broker') }));
  });
}

async function metric(name: string, labels: string): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(labels));
  return line ? Number(line.split(' ').pop()) : 0;
}

const event = (id: string, device: string, type: string, extra: object = {}) =>
  JSON.stringify({ v: 1, id, seq: 1, ts: new Date().toISOString(), device, type, ...extra });

async function alarms(): Promise<Alarm[]> {
  return (await server.api<{ alarms: Alarm[] }>('GET', '/api/v1/alarms')).body.alarms;
}

beforeAll(async () => {
  server = await startTestServer();
  site = await registerSite(server);
  other = await registerSite(server, [{ id: 'btn-999', kind: 'call_button' }]);
  const r = await connect({ clientId: site.gatewayId, username: site.gatewayId, password: site.secret });
  if (!('client' in r)) throw r.error;
  client = r.client;
});
afterAll(async () => {
  await client?.endAsync();
  await server?.stop();
});

describe('MQTT authentication', () => {
  it('refuses an anonymous client', async () => {
    const r = await connect({ clientId: site.gatewayId });
    expect('error' in r && r.error.message).toMatch(/Bad username or password|Not authorized/i);
  });
  it('refuses a wrong secret', async () => {
    const r = await connect({ clientId: site.gatewayId, username: site.gatewayId, password: 'wrong-secret' });
    expect('error' in r && r.error.message).toMatch(/Bad username or password/i);
  });
  it('refuses a username that is not the client id (no session takeover)', async () => {
    const r = await connect({ clientId: other.gatewayId, username: site.gatewayId, password: site.secret });
    expect('error' in r).toBe(true);
  });
  it('refuses a prototype-named client id', async () => {
    const r = await connect({ clientId: '__proto__', username: '__proto__', password: 'x' });
    expect('error' in r).toBe(true);
  });
});

describe('payloads', () => {
  it('rejects and counts malformed JSON and schema violations; the next valid event still raises its alarm', async () => {
    const topic = gatewayTopic(site.siteId, site.gatewayId, 'events');
    const jsonBefore = await metric('care_ingest_rejected_total', 'reason="json"');
    const schemaBefore = await metric('care_ingest_rejected_total', 'reason="schema"');
    await client.publishAsync(topic, '{"v":1,"id":', { qos: 1 });
    await client.publishAsync(topic, Buffer.from([0xff, 0xfe, 0x00]), { qos: 1 });
    await client.publishAsync(topic, event('bad-type', 'btn-203', 'explode'), { qos: 1 });
    await client.publishAsync(topic, event('bad-extra', 'btn-203', 'call', { admin: true }), { qos: 1 });
    await client.publishAsync(topic, JSON.stringify({ v: 1, id: 'no-ts', seq: 1, device: 'btn-203', type: 'call' }), { qos: 1 });
    await client.publishAsync(topic, event('valid-1', 'btn-203', 'fall'), { qos: 1 });
    await waitFor(async () => (await alarms()).find((a) => a.type === 'fall' && a.deviceId === 'btn-203'), 'fall alarm after bad input');
    expect(await metric('care_ingest_rejected_total', 'reason="json"')).toBe(jsonBefore + 2);
    expect(await metric('care_ingest_rejected_total', 'reason="schema"')).toBe(schemaBefore + 3);
  });

  it('the same event id twice makes one alarm with count 1, and both deliveries are confirmed', async () => {
    const cmd = gatewayTopic(site.siteId, site.gatewayId, 'cmd');
    const confirmed: string[] = [];
    await client.subscribeAsync(cmd, { qos: 1 });
    client.on('message', (t, p) => {
      if (t === cmd) confirmed.push(...(JSON.parse(String(p)) as { ids: string[] }).ids);
    });
    const topic = gatewayTopic(site.siteId, site.gatewayId, 'events');
    const payload = event('replayed-1', 'radar-203', 'call');
    await client.publishAsync(topic, payload, { qos: 1 });
    await client.publishAsync(topic, payload, { qos: 1 });
    await waitFor(() => confirmed.filter((id) => id === 'replayed-1').length === 2, 'both deliveries confirmed');
    const calls = (await alarms()).filter((a) => a.type === 'call' && a.deviceId === 'radar-203');
    expect(calls).toHaveLength(1);
    expect(calls[0]?.count).toBe(1);
  });

  it('an event from an unknown device still raises its alarm, flagged unregistered', async () => {
    await client.publishAsync(gatewayTopic(site.siteId, site.gatewayId, 'events'), event('unknown-1', 'pendant-x', 'call'), { qos: 1 });
    const a = await waitFor(async () => (await alarms()).find((x) => x.deviceId === 'pendant-x'), 'unregistered alarm');
    expect(a).toMatchObject({ type: 'call', priority: 'high', unregistered: true, residentId: null });
  });

  it("an event naming another gateway's device is refused and counted as a security event", async () => {
    const before = await metric('care_security_events_total', 'kind="forged_device"');
    await client.publishAsync(gatewayTopic(site.siteId, site.gatewayId, 'events'), event('forged-1', 'btn-999', 'call'), { qos: 1 });
    await waitFor(async () => (await metric('care_security_events_total', 'kind="forged_device"')) === before + 1, 'security event');
    expect((await alarms()).find((a) => a.deviceId === 'btn-999')).toBeUndefined();
  });

  it("publishing on another gateway's topic disconnects the client and stores nothing", async () => {
    const r = await connect({ clientId: other.gatewayId, username: other.gatewayId, password: other.secret });
    if (!('client' in r)) throw r.error;
    const closed = new Promise<void>((resolve) => r.client.once('close', () => resolve()));
    r.client.publish(gatewayTopic(site.siteId, site.gatewayId, 'events'), event('forged-topic-1', 'btn-203', 'fall'), { qos: 1 });
    await closed;
    r.client.end(true);
    const events = await server.api<{ alarms: Alarm[] }>('GET', '/api/v1/alarms');
    expect(events.status).toBe(200);
    expect(await metric('care_security_events_total', 'kind="forged_topic"')).toBeGreaterThanOrEqual(1);
  });

  it("a last will on another gateway's topic is checked like a publish, and dropped", async () => {
    const r = await connect({
      clientId: other.gatewayId,
      username: other.gatewayId,
      password: other.secret,
      will: {
        topic: gatewayTopic(site.siteId, site.gatewayId, 'status'),
        payload: Buffer.from('{"v":1,"state":"offline"}'),
        qos: 1,
        retain: true,
      },
    });
    if (!('client' in r)) throw r.error;
    const before = await metric('care_security_events_total', 'kind="forged_topic"');
    r.client.stream.destroy(); // no DISCONNECT: the broker would publish the will
    await waitFor(async () => (await metric('care_security_events_total', 'kind="forged_topic"')) > before, 'forged will refused');
    const gw = await server.api<{ state: string }>('GET', `/api/v1/gateways/${site.gatewayId}`);
    expect(gw.body.state).not.toBe('offline');
  });

  it("a gateway may not subscribe to another gateway's commands or to everything", async () => {
    // The broker answers SUBACK 0x80 (refused) for both; mqtt.js turns that into an error.
    await expect(client.subscribeAsync('care/v1/#', { qos: 1 })).rejects.toThrow(/Subscribe error/);
    await expect(client.subscribeAsync(gatewayTopic(other.siteId, other.gatewayId, 'cmd'), { qos: 1 })).rejects.toThrow(/Subscribe error/);
    await expect(client.subscribeAsync('$SYS/#', { qos: 0 })).rejects.toThrow(/Subscribe error/);
    expect(client.connected).toBe(true);
  });
});

// Zigbee2MQTT devices through a local broker (a second, plain Aedes standing in for the bridge's
// Mosquitto) into the real gateway and server: an SOS button press becomes a call alarm, garbage
// on the bridge topic loses nothing, availability offline becomes a device fault.
import net from 'node:net';
import { Aedes } from 'aedes';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningGateway } from '../../gateway/gateway.ts';
import type { Alarm } from '../../protocol/index.ts';
import { type DemoSite, registerSite, startTestGateway, startTestServer, type TestServer, waitFor } from '../helpers/harness.ts';

let local: Aedes;
let localServer: net.Server;
let bridge: MqttClient;
let server: TestServer;
let site: DemoSite;
let gateway: RunningGateway;

const alarm = (pred: (a: Alarm) => boolean, what: string) =>
  waitFor(async () => (await server.api<{ alarms: Alarm[] }>('GET', '/api/v1/alarms')).body.alarms.find(pred), what);

beforeAll(async () => {
  local = await Aedes.createBroker();
  localServer = net.createServer(local.handle);
  await new Promise<void>((r) => localServer.listen(0, '127.0.0.1', () => r()));
  const url = `mqtt://127.0.0.1:${(localServer.address() as net.AddressInfo).port}`;
  server = await startTestServer();
  site = await registerSite(server, [
    { id: 'sos-203', kind: 'call_button' },
    { id: 'door-203', kind: 'door_sensor' },
  ]);
  gateway = await startTestGateway(server, site, {
    zigbee2mqtt: {
      url,
      devices: { sos1: { device: 'sos-203', model: 'TS0215A_sos' }, door203: { device: 'door-203', model: 'MCCGQ11LM' } },
    },
  });
  bridge = await mqtt.connectAsync(url);
  // The adapter subscribes once connected to the local broker.
  await waitFor(() => Object.keys((local as unknown as { clients: object }).clients).length >= 2, 'adapter connected to the local broker');
});
afterAll(async () => {
  await bridge?.endAsync();
  await gateway?.stop();
  await server?.stop();
  localServer?.close();
  await new Promise<void>((r) => local?.close(() => r()));
});

describe('Zigbee2MQTT', () => {
  it('an SOS button press after garbage on its topic still raises a call alarm', async () => {
    await bridge.publishAsync('zigbee2mqtt/sos1', '{"action":', { qos: 1 });
    await bridge.publishAsync('zigbee2mqtt/sos1', '[1,2]', { qos: 1 });
    await bridge.publishAsync('zigbee2mqtt/sos1', JSON.stringify({ action: 'emergency', battery: 100, linkquality: 87 }), { qos: 1 });
    const a = await alarm((x) => x.deviceId === 'sos-203', 'call alarm');
    expect(a).toMatchObject({ type: 'call', priority: 'high', unregistered: false });
  });

  it('a device that is not in the config raises nothing', async () => {
    await bridge.publishAsync('zigbee2mqtt/stranger', JSON.stringify({ action: 'emergency' }), { qos: 1 });
    await bridge.publishAsync('zigbee2mqtt/door203', JSON.stringify({ contact: false, battery: 15 }), { qos: 1 });
    await alarm((x) => x.deviceId === 'door-203' && x.type === 'low_battery', 'low battery from the door');
    const all = (await server.api<{ alarms: Alarm[] }>('GET', '/api/v1/alarms')).body.alarms;
    expect(all.some((x) => x.deviceId === 'stranger')).toBe(false);
  });

  it('availability offline (Zigbee2MQTT 2.x form) becomes a device fault', async () => {
    await bridge.publishAsync('zigbee2mqtt/sos1/availability', JSON.stringify({ state: 'offline' }), { qos: 1 });
    const fault = await alarm((x) => x.deviceId === 'sos-203' && x.type === 'device_fault', 'device fault');
    expect(fault.priority).toBe('low');
  });
});

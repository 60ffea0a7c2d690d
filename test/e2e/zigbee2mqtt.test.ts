// Zigbee2MQTT devices through a local broker (a second, plain Aedes standing in for the bridge's
// Mosquitto) into the real gateway and server: an SOS button press becomes a call alarm, garbage
// on the bridge topic loses nothing, availability offline becomes a device fault.
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alarm } from '../../protocol/index.ts';
import { type TestServer, waitFor } from '../helpers/harness.ts';
import { startZigbee2mqttRig, type Zigbee2mqttRig } from '../helpers/zigbee2mqtt.ts';

let rig: Zigbee2mqttRig;
let bridge: MqttClient;
let server: TestServer;

const alarm = (pred: (a: Alarm) => boolean, what: string) =>
  waitFor(async () => (await server.api<{ alarms: Alarm[] }>('GET', '/api/v1/alarms')).body.alarms.find(pred), what);

beforeAll(async () => {
  rig = await startZigbee2mqttRig(
    [
      { id: 'sos-203', kind: 'call_button' },
      { id: 'door-203', kind: 'door_sensor' },
    ],
    { sos1: { device: 'sos-203', model: 'TS0215A_sos' }, door203: { device: 'door-203', model: 'MCCGQ11LM' } },
  );
  ({ bridge, server } = rig);
}, 60_000);
afterAll(async () => {
  await rig?.stop();
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

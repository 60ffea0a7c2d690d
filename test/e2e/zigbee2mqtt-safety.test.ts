// Home safety sensors through a Zigbee2MQTT bridge (a plain Aedes standing in for its Mosquitto)
// into the real gateway and server: smoke, gas and water on the floor become their own
// high-priority alarms on a caregiver's screen, at any hour; a repeated state raises no second alarm.
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alarm } from '../../protocol/index.ts';
import { safetyState } from '../../simulators/zigbee-safety.ts';
import { type DemoSite, Screen, type TestServer } from '../helpers/harness.ts';
import { startZigbee2mqttRig, type Zigbee2mqttRig } from '../helpers/zigbee2mqtt.ts';

let rig: Zigbee2mqttRig;
let bridge: MqttClient;
let server: TestServer;
let site: DemoSite;

beforeAll(async () => {
  rig = await startZigbee2mqttRig(
    [
      { id: 'smoke-203', kind: 'smoke_detector' },
      { id: 'gas-kitchen', kind: 'gas_detector' },
      { id: 'leak-bath', kind: 'leak_sensor' },
    ],
    {
      smoke203: { device: 'smoke-203', model: 'HS3SA/HS1SA' },
      gas1: { device: 'gas-kitchen', model: 'JT-BZ-01AQ/A' },
      leak1: { device: 'leak-bath', model: 'TS0207_water_leak_detector' },
    },
  );
  ({ bridge, server, site } = rig);
}, 60_000);
afterAll(async () => {
  await rig?.stop();
});

describe('Zigbee2MQTT home safety sensors', () => {
  it('smoke, gas and a water leak each raise their own high-priority alarm on the screen', async () => {
    const screen = await Screen.open(server);
    const publish = (name: string, state: object) => bridge.publishAsync(`zigbee2mqtt/${name}`, JSON.stringify(state), { qos: 1 });
    await publish('smoke203', { smoke: false, battery: 100, battery_low: false, linkquality: 90 });
    await publish('smoke203', { smoke: true, battery: 100, battery_low: false, linkquality: 90 });
    await publish('smoke203', { smoke: true, battery: 100, battery_low: false, linkquality: 88 }); // repeated state
    await publish('gas1', { gas: true, gas_density: 12, linkquality: 70 });
    await publish('leak1', safetyState('water_leak', true)); // as the simulator sends it
    const want: Array<[string, string]> = [
      ['smoke-203', 'smoke'],
      ['gas-kitchen', 'gas'],
      ['leak-bath', 'water_leak'],
    ];
    for (const [deviceId, type] of want) {
      const a = await screen.waitForAlarm((x: Alarm) => x.deviceId === deviceId && x.type === type, `${type} alarm`);
      expect(a).toMatchObject({ priority: 'high', residentId: site.residentId, unregistered: false });
    }
    const { body } = await server.api<{ alarms: Alarm[] }>('GET', '/api/v1/alarms?state=active');
    expect(body.alarms.filter((a) => a.type === 'smoke')).toEqual([expect.objectContaining({ count: 1 })]);
    screen.close();
  });
});

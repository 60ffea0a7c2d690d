// A gateway's status message carries its devices' battery levels: one under the low-battery
// threshold raises `low_battery` on that device (the same rule as a battery reading,
// server/alarms/low-battery.ts); one above it raises nothing. Real broker and server.
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Alarm, gatewayTopic } from '../../protocol/index.ts';
import { connectAsGateway, type DemoSite, registerSite, startTestServer, type TestServer, waitFor } from '../helpers/harness.ts';

let server: TestServer;
let site: DemoSite;
let gw: MqttClient;

beforeAll(async () => {
  server = await startTestServer();
  site = await registerSite(server);
  gw = await connectAsGateway(server, site);
});
afterAll(async () => {
  await gw?.endAsync();
  await server?.stop();
});

describe('battery in gateway status', () => {
  it('a device under the threshold raises low_battery; one above it raises nothing', async () => {
    const ts = new Date().toISOString();
    await gw.publishAsync(
      gatewayTopic(site.siteId, site.gatewayId, 'status'),
      JSON.stringify({
        v: 1,
        state: 'online',
        ts,
        devices: [
          { device: 'btn-203', lastSeen: ts, battery: 50 },
          { device: 'bed-203', lastSeen: ts, battery: 8 },
        ],
      }),
      { qos: 1 },
    );
    const open = async () => (await server.api<{ alarms: Alarm[] }>('GET', '/api/v1/alarms?state=active')).body.alarms;
    const low = await waitFor(async () => (await open()).find((a) => a.type === 'low_battery'), 'low_battery alarm');
    expect(low.deviceId).toBe('bed-203');
    expect(low.priority).toBe('low');
    expect((await open()).filter((a) => a.type === 'low_battery')).toHaveLength(1);
  });
});

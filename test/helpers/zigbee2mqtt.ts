// A Zigbee2MQTT rig for e2e tests: a plain Aedes standing in for the bridge's Mosquitto, the real
// server, a site with the given devices, the real gateway with its zigbee2mqtt adapter on that
// broker, and an MQTT client publishing as the bridge does. Stopped in reverse order.
import net from 'node:net';
import { Aedes } from 'aedes';
import mqtt, { type MqttClient } from 'mqtt';
import type { RunningGateway } from '../../gateway/gateway.ts';
import { type DemoSite, registerSite, startTestGateway, startTestServer, type TestServer, waitFor } from './harness.ts';

export interface Zigbee2mqttRig {
  server: TestServer;
  site: DemoSite;
  gateway: RunningGateway;
  /** Publishes as Zigbee2MQTT does, on the local broker. */
  bridge: MqttClient;
  stop(): Promise<void>;
}

/**
 * `devices` are registered for the site's resident; `mapping` is the adapter's config (Zigbee2MQTT
 * friendly name -> device id and model).
 */
export async function startZigbee2mqttRig(
  devices: Array<{ id: string; kind: string }>,
  mapping: Record<string, { device: string; model: string }>,
): Promise<Zigbee2mqttRig> {
  const local = await Aedes.createBroker();
  const localServer = net.createServer(local.handle);
  let server: TestServer | undefined;
  let gateway: RunningGateway | undefined;
  let bridge: MqttClient | undefined;
  const stop = async () => {
    await bridge?.endAsync();
    await gateway?.stop();
    await server?.stop();
    localServer.close();
    await new Promise<void>((r) => local.close(() => r()));
  };
  try {
    await new Promise<void>((r) => localServer.listen(0, '127.0.0.1', () => r()));
    const url = `mqtt://127.0.0.1:${(localServer.address() as net.AddressInfo).port}`;
    server = await startTestServer();
    const site = await registerSite(server, devices);
    gateway = await startTestGateway(server, site, { zigbee2mqtt: { url, devices: mapping } });
    bridge = await mqtt.connectAsync(url);
    // The adapter subscribes once connected to the local broker.
    await waitFor(
      () => Object.keys((local as unknown as { clients: object }).clients).length >= 2,
      'adapter connected to the local broker',
    );
    return { server, site, gateway, bridge, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

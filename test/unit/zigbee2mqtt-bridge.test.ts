// The Zigbee2MQTT adapter's own broker (the bridge's Mosquitto on the gateway's host) going away is
// a fault of the bridge "device", and its return a recovery. The adapter reconnects itself
// (reconnectPeriod 0), so MQTT.js never emits `offline`: the fault must come from the closed
// connection. A real Aedes broker on a real port, stopped and started again on the same port.
import net from 'node:net';
import { Aedes } from 'aedes';
import { afterAll, describe, expect, it } from 'vitest';
import type { AdapterSink } from '../../gateway/adapters/types.ts';
import { BRIDGE_DEVICE, createZigbee2MqttAdapter } from '../../gateway/adapters/zigbee2mqtt/adapter.ts';
import { quietLogger, waitFor } from '../helpers/harness.ts';

async function broker(port = 0) {
  const aedes = await Aedes.createBroker();
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    aedes.handle(s);
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
  return {
    port: (server.address() as net.AddressInfo).port,
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
      await new Promise<void>((r) => aedes.close(() => r()));
    },
  };
}

const stops: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const s of stops.reverse()) await s();
});

describe('zigbee2mqtt bridge broker', () => {
  it('is a fault while unreachable and recovers when it is back; stopping the adapter is not a fault', async () => {
    const calls: string[] = [];
    const sink: AdapterSink = {
      event: () => {},
      reading: () => {},
      seen: () => {},
      fault: (device, message) => calls.push(`fault ${device} ${message}`),
      recovered: (device) => calls.push(`recovered ${device}`),
      rejected: () => {},
    };
    let b = await broker();
    const port = b.port;
    const adapter = createZigbee2MqttAdapter({ url: `mqtt://127.0.0.1:${port}`, devices: {} }, sink, quietLogger());
    await adapter.start();
    await waitFor(() => calls.includes(`recovered ${BRIDGE_DEVICE}`), 'connected');
    await b.stop();
    await waitFor(() => calls.includes(`fault ${BRIDGE_DEVICE} zigbee2mqtt broker unreachable`), 'fault while the broker is down');
    b = await broker(port);
    stops.push(() => b.stop());
    await waitFor(() => calls.filter((c) => c === `recovered ${BRIDGE_DEVICE}`).length === 2, 'recovered when it is back', 20_000);
    const before = calls.length;
    await adapter.stop();
    await new Promise((r) => setTimeout(r, 200));
    expect(calls.slice(before)).toEqual([]);
  });
});

// The floor: a bare Aedes + mqtt.js QoS 1 round trip to a WebSocket client at the alarm phase's
// rate, so the pipeline's cost is a ratio to what the stack itself costs on this machine.
import type net from 'node:net';
import { createServer } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Aedes } from 'aedes';
import mqtt from 'mqtt';
import WebSocket, { WebSocketServer } from 'ws';
import { constantRate, histogram, waitUntil } from '../lib.ts';
import { EVENT_RATE, log, type Settings } from './common.ts';

export async function floorPhase(P: Settings) {
  log('floor: bare Aedes + mqtt.js QoS 1 -> WebSocket');
  const broker = await Aedes.createBroker();
  const mqttServer = createServer(broker.handle);
  await new Promise<void>((r) => mqttServer.listen(0, '127.0.0.1', () => r()));
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise((r) => wss.once('listening', r));
  await new Promise<void>((r) =>
    broker.subscribe(
      'bench/#',
      (packet, cb) => {
        for (const c of wss.clients) c.send(packet.payload);
        cb();
      },
      r,
    ),
  );
  const sentAt = new Map<number, number>();
  const h = histogram();
  const ws = new WebSocket(`ws://127.0.0.1:${(wss.address() as net.AddressInfo).port}`);
  await new Promise((r) => ws.once('open', r));
  ws.on('message', (d) => {
    const i = Number(String(d));
    const t = sentAt.get(i);
    if (t !== undefined) h.record(performance.now() - t);
  });
  const pub = await mqtt.connectAsync(`mqtt://127.0.0.1:${(mqttServer.address() as net.AddressInfo).port}`);
  await constantRate(EVENT_RATE, P.floorMs, (i, at) => {
    sentAt.set(i, at);
    pub.publish('bench/x', String(i), { qos: 1 });
  });
  await waitUntil(() => h.count >= sentAt.size, 5000);
  await pub.endAsync();
  ws.close();
  wss.close();
  mqttServer.close();
  await new Promise<void>((r) => broker.close(() => r()));
  return h.summary();
}

// Gateways do not reconnect in lockstep (issue 13): 50 real uplinks lose the server together,
// the server comes back on the same port, and the attempts that get them back are spread out
// (exponential backoff with full jitter), where a fixed retry period brought all back in one instant.
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { openOutbox } from '../../gateway/outbox/outbox.ts';
import { createUplink, type Uplink } from '../../gateway/uplink/uplink.ts';
import type { Alarm } from '../../protocol/index.ts';
import { connectGateway } from '../../simulators/direct.ts';
import { quietLogger, registerSite, startTestServer, type TestServer, tempDir, waitFor } from '../helpers/harness.ts';
import { freePort } from '../helpers/processes.ts';
import { busiestWindow } from '../helpers/spread.ts';

const N = 50;
const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

/** A server on a fixed MQTT port, so that `restart()` brings it back on the same port and data. */
async function restartableServer(): Promise<{ server: TestServer; restart(): Promise<TestServer> }> {
  const dataDir = tempDir();
  const env = { CARE_MQTT_PORT: String(await freePort()) };
  return {
    server: await startTestServer(dataDir, { env }),
    async restart() {
      const server = await startTestServer(dataDir, { env });
      cleanups.push(() => server.stop());
      return server;
    },
  };
}

describe('uplink reconnect after a server restart', () => {
  it(`${N} uplinks that lost the server together come back spread out, not in one window`, { timeout: 240_000 }, async () => {
    const restartable = await restartableServer();
    let server = restartable.server;
    const site = await registerSite(server, []);
    const gateways: Array<{ id: string; secret: string }> = [];
    for (let i = 0; i < N; i++) {
      const r = await server.api<{ id: string; secret: string }>('POST', '/api/v1/gateways', { siteId: site.siteId, name: `g${i}` });
      gateways.push(r.body);
    }

    // Each uplink's connection attempts and connections, from its own log lines.
    const attempts = new Map<string, number[]>();
    const connections = new Map<string, number[]>();
    const uplinks: Uplink[] = [];
    for (const g of gateways) {
      attempts.set(g.id, []);
      connections.set(g.id, []);
      const log = pino(
        { level: 'debug' },
        {
          write(line: string) {
            const l = JSON.parse(line) as { msg: string; time: number };
            if (l.msg === 'uplink connecting') attempts.get(g.id)?.push(l.time);
            if (l.msg === 'uplink connected') connections.get(g.id)?.push(l.time);
          },
        },
      );
      const outbox = openOutbox(tempDir('care-outbox-'));
      const uplink = createUplink({ url: server.mqttUrl, siteId: site.siteId, gatewayId: g.id, secret: g.secret }, outbox, log);
      uplink.start();
      uplinks.push(uplink);
      cleanups.push(async () => {
        await uplink.stop();
        outbox.close();
      });
    }
    await waitFor(() => uplinks.every((u) => u.connected), 'every uplink connected', 60_000);

    await server.stop();
    const stoppedAt = Date.now();
    // Down long enough for every uplink to have retried a few times.
    const retriesSince = (id: string, t: number) => (attempts.get(id) ?? []).filter((a) => a >= t).length;
    await waitFor(() => gateways.every((g) => retriesSince(g.id, stoppedAt) >= 3), 'three failed retries each', 90_000);

    server = await restartable.restart();
    await waitFor(() => uplinks.every((u) => u.connected), 'every uplink back', 120_000);

    // The attempt that got each uplink back: its last one before its new connection.
    const winning = gateways.map((g) => {
      const back = (connections.get(g.id) ?? []).filter((t) => t > stoppedAt)[0] as number;
      return Math.max(...(attempts.get(g.id) ?? []).filter((t) => t <= back));
    });
    const busiest = busiestWindow(winning, 1000);
    const spreadMs = Math.max(...winning) - Math.min(...winning);
    console.log(`reconnect spread of ${N} uplinks: ${spreadMs} ms from first to last, at most ${busiest} in any 1 s window`);
    expect(busiest).toBeLessThanOrEqual(N / 2);
    expect(spreadMs).toBeGreaterThan(2000);
  });

  it('a call accepted while the uplink waits out a long backoff step goes out within seconds of the server coming back', {
    timeout: 120_000,
  }, async () => {
    const restartable = await restartableServer();
    let server = restartable.server;
    const site = await registerSite(server);
    const outbox = openOutbox(tempDir('care-outbox-'));
    // Every backoff step is about a minute: without the wake-up the call would wait that long.
    const uplink = createUplink(
      {
        url: server.mqttUrl,
        siteId: site.siteId,
        gatewayId: site.gatewayId,
        secret: site.secret,
        backoff: { baseMs: 60_000, capMs: 60_000, random: () => 0.99 },
      },
      outbox,
      quietLogger(),
    );
    uplink.start();
    cleanups.push(async () => {
      await uplink.stop();
      outbox.close();
    });
    await waitFor(() => uplink.connected, 'uplink connected', 30_000);
    await server.stop();
    await waitFor(() => !uplink.connected, 'uplink lost', 30_000);
    server = await restartable.restart();

    outbox.appendEvent('call-after-restart', (seq) =>
      JSON.stringify({ v: 1, id: 'call-after-restart', seq, ts: new Date().toISOString(), device: 'btn-203', type: 'call' }),
    );
    uplink.kick();
    uplink.eventWaiting();
    await waitFor(
      async () => (await server.api<{ alarms: Alarm[] }>('GET', '/api/v1/alarms')).body.alarms.find((a) => a.deviceId === 'btn-203'),
      'the call on the server',
      20_000,
    );
  });

  it('a simulator gateway (load runs) reconnects by itself after a server restart and its events are confirmed again', {
    timeout: 120_000,
  }, async () => {
    const restartable = await restartableServer();
    let server = restartable.server;
    const site = await registerSite(server);
    const lost: string[] = [];
    const gw = await connectGateway(
      { url: server.mqttUrl, siteId: site.siteId, gatewayId: site.gatewayId, secret: site.secret },
      { reconnect: true, onConnectionLost: (why) => lost.push(why) },
    );
    cleanups.push(() => gw.close());
    const before = await gw.sendEvent({ device: 'btn-203', type: 'call' });
    await gw.waitCommitted([before.id], 20_000);
    await server.stop();
    await waitFor(() => lost.length > 0, 'connection lost', 30_000);
    server = await restartable.restart();
    // Resolves once the reconnected client has the PUBACK; the confirmation needs the cmd subscription back.
    const after = await gw.sendEvent({ device: 'bed-203', type: 'bed_exit' });
    await gw.waitCommitted([after.id], 40_000);
  });
});

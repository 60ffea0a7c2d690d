// Guarantee 6: with the server out of reach longer than the set time, the gateway raises the alarm
// locally (its page and a serial output line through a real socat pty pair), and still delivers
// everything once the server is back; the server's acknowledgement clears the local alarm.
import fs from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { startGateway } from '../../gateway/gateway.ts';
import type { Alarm } from '../../protocol/index.ts';
import { FakeClock } from '../helpers/fake-clock.ts';
import { gatewayConfigFor, quietLogger, registerSite, startTestServer, tempDir, waitFor } from '../helpers/harness.ts';
import { freePort } from '../helpers/processes.ts';
import { ptyPair } from '../helpers/pty.ts';

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

describe('uplink down', () => {
  it('raises the alarm locally after the set time, delivers it when the server is back, and clears on the server ack', async () => {
    const dataDir = tempDir();
    const mqttPort = await freePort();
    const env = { CARE_MQTT_PORT: String(mqttPort) };
    // Register, then take the server away.
    let server = await startTestServer(dataDir, { env });
    const site = await registerSite(server);
    await server.stop();

    const pty = await ptyPair();
    cleanups.push(() => pty.proc.kill());
    const lines: string[] = [];
    const reader = fs.createReadStream(pty.b);
    reader.on('data', (d) => lines.push(...String(d).split('\r\n').filter(Boolean)));
    reader.on('error', () => {});
    cleanups.push(() => reader.destroy());

    const clock = new FakeClock();
    const config = gatewayConfigFor(server, site, { local: { afterSeconds: 30, httpPort: 0, output: { path: pty.a } } });
    const gateway = await startGateway(config, { logger: quietLogger(), clock });
    cleanups.push(() => gateway.stop());
    const page = `http://127.0.0.1:${gateway.localPagePort}`;
    const local = async () =>
      (await (await fetch(`${page}/local/alarms.json`)).json()) as { active: boolean; alarms: Array<{ device: string; type: string }> };

    gateway.sink.event({ device: 'btn-203', type: 'call' });
    expect((await local()).alarms).toEqual([]);
    clock.advance(31_000);
    expect(await local()).toMatchObject({ active: true, alarms: [{ device: 'btn-203', type: 'call' }] });
    await waitFor(() => lines.some((l) => /^ALARM HIGH call btn-203 /.test(l)), 'alarm line on the serial output');
    const html = await (await fetch(page)).text();
    expect(html).toContain('紧急呼叫');
    expect(gateway.outboxDepth().events).toBeGreaterThanOrEqual(1);

    // The server comes back on the same port: the event is delivered and becomes an alarm.
    server = await startTestServer(dataDir, { env });
    cleanups.push(() => server.stop());
    const alarm = await waitFor(
      async () => (await server.api<{ alarms: Alarm[] }>('GET', '/api/v1/alarms')).body.alarms.find((a) => a.deviceId === 'btn-203'),
      'alarm on the server after the outage',
      20_000,
    );
    await waitFor(() => gateway.outboxDepth().events === 0, 'outbox emptied');
    expect((await local()).alarms).toHaveLength(1);
    await server.api('POST', `/api/v1/alarms/${alarm.id}/ack`);
    await waitFor(async () => (await local()).alarms.length === 0, 'local alarm cleared by the server ack');
  }, 60_000);
});

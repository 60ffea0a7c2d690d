// A gateway whose outbox disk is full still gets the call out (issue 13): a real gateway process
// with its outbox on a small tmpfs of its own (a private mount namespace, so nothing leaks onto the
// machine), filled by the test through /proc/<pid>/root until the kernel answers ENOSPC. A button's
// call must reach a caregiver's screen, show on the gateway's local page and serial alarm line,
// the gateway must stay up (telemetry flush included), and the server must raise `device_fault`
// on the gateway, which clears by itself once the disk has room again.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Alarm } from '../../protocol/index.ts';
import { gatewayEnvFor, registerSite, Screen, startTestServer, tempDir, waitFor } from '../helpers/harness.ts';
import { freePort, startProcess } from '../helpers/processes.ts';
import { ptyPair } from '../helpers/pty.ts';

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

/** A serial device server on loopback: each `send` writes one NDJSON line to the gateway. */
function deviceServer(): Promise<{ port: number; send(line: object): void; close(): void }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => sockets.delete(s));
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        port: (server.address() as net.AddressInfo).port,
        send(line) {
          if (sockets.size === 0) throw new Error('the gateway is not connected to the device server');
          for (const s of sockets) s.write(`${JSON.stringify(line)}\n`);
        },
        close() {
          for (const s of sockets) s.destroy();
          server.close();
        },
      }),
    ),
  );
}

/** Writes `file` until the filesystem refuses: afterwards it is really full. */
function fillUp(file: string): number {
  const fd = fs.openSync(file, 'w');
  const chunk = Buffer.alloc(64 * 1024, 0x55);
  let written = 0;
  try {
    for (;;) {
      try {
        written += fs.writeSync(fd, chunk);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOSPC') break;
        throw err;
      }
    }
    // The last partial page too, byte by byte in small steps.
    for (let size = 4096; size >= 1; size = Math.floor(size / 2)) {
      for (;;) {
        try {
          written += fs.writeSync(fd, chunk.subarray(0, size));
        } catch {
          break;
        }
      }
    }
  } finally {
    fs.closeSync(fd);
  }
  return written;
}

describe('outbox on a full disk', () => {
  it('still gets a call to the screen and the local fallback at once, stays up, and raises device_fault on the gateway until writes work again', {
    timeout: 120_000,
  }, async () => {
    const server = await startTestServer();
    cleanups.push(() => server.stop());
    const site = await registerSite(server);
    const screen = await Screen.open(server);
    cleanups.push(() => screen.close());
    const devices = await deviceServer();
    cleanups.push(() => devices.close());
    const pty = await ptyPair();
    cleanups.push(() => pty.proc.kill());
    const serialLines: string[] = [];
    const reader = fs.createReadStream(pty.b);
    reader.on('data', (d) => serialLines.push(...String(d).split('\r\n').filter(Boolean)));
    reader.on('error', () => {});
    cleanups.push(() => reader.destroy());

    const home = tempDir('care-gw-');
    const outboxDir = path.join(home, 'outbox');
    fs.mkdirSync(outboxDir);
    const pagePort = await freePort();
    const configPath = path.join(home, 'gateway.json');
    fs.writeFileSync(
      configPath,
      JSON.stringify({
        serial: [{ path: `tcp://127.0.0.1:${devices.port}`, protocol: 'ndjson' }],
        local: { afterSeconds: 60, httpPort: pagePort, output: { path: pty.a } },
      }),
    );
    // The outbox gets a 4 MB tmpfs in the gateway's own mount namespace.
    const gateway = startProcess('gateway/main.ts', gatewayEnvFor(server, site, configPath, outboxDir), (node, args) => [
      'unshare',
      [
        '--mount',
        '--propagation',
        'private',
        'sh',
        '-c',
        'mount -t tmpfs -o size=4m tmpfs "$CARE_OUTBOX_DIR" && exec "$@"',
        'sh',
        node,
        ...args,
      ],
    ]);
    cleanups.push(() => gateway.stop());
    const logged = (msg: string) => gateway.lines.some((l) => l.msg === msg);
    await waitFor(() => logged('uplink connected') || gateway.child.exitCode !== null, 'gateway connected', 30_000);
    expect(gateway.child.exitCode, gateway.output.join('\n')).toBeNull();
    await waitFor(() => logged('gateway started'), 'gateway started', 30_000);
    const page = `http://127.0.0.1:${pagePort}`;
    const local = async () =>
      (await (await fetch(`${page}/local/alarms.json`)).json()) as {
        storeFault?: boolean;
        alarms: Array<{ device: string; type: string }>;
      };

    // The disk fills up under the running gateway.
    const filler = `/proc/${gateway.child.pid}/root${outboxDir}/filler`;
    expect(fillUp(filler)).toBeGreaterThan(1024 * 1024);
    const calledAt = Date.now();
    devices.send({ device: 'btn-203', type: 'call' });

    const call = await screen.waitForAlarm((a) => a.deviceId === 'btn-203' && a.type === 'call', 'the call on the caregiver screen');
    expect(call.priority).toBe('high');
    expect(gateway.lines.find((l) => l.msg === 'event accepted in memory only')).toMatchObject({ deviceId: 'btn-203', durable: false });
    // Locally at once, although the uplink is up: the event is not durable.
    expect(await local()).toMatchObject({ storeFault: true, alarms: [{ device: 'btn-203', type: 'call' }] });
    await waitFor(() => serialLines.some((l) => /^ALARM HIGH call btn-203 /.test(l)), 'alarm line on the serial output');

    // The technical alarm on the gateway itself, well within 30 s.
    const fault = await waitFor(
      () => screen.alarmMessages().find((a) => a.type === 'device_fault' && a.deviceId === site.gatewayId && a.state === 'active'),
      'device_fault on the gateway',
      30_000,
    );
    expect(Date.now() - calledAt).toBeLessThan(30_000);
    expect(fault.gatewayId).toBe(site.gatewayId);
    const raised = await server.api<{ history: Array<{ action: string; detail: { reason?: string } }> }>(
      'GET',
      `/api/v1/alarms/${fault.id}`,
    );
    expect(raised.body.history.find((h) => h.action === 'raised')?.detail.reason).toBe('outbox_unwritable');

    // A reading's flush into the full outbox is dropped, not fatal.
    devices.send({ device: 'btn-203', metric: 'battery', value: 80 });
    await waitFor(() => logged('telemetry batch dropped: outbox unwritable'), 'telemetry flush attempted', 20_000);
    expect(gateway.child.exitCode).toBeNull();
    expect(gateway.child.signalCode).toBeNull();
    // Still unwritable, so the alarm stays through the probes and a heartbeat or two.
    expect((await server.api<{ alarm: Alarm }>('GET', `/api/v1/alarms/${fault.id}`)).body.alarm.state).toBe('active');

    // Room again: the fault clears by itself, audited as the system's.
    fs.rmSync(filler);
    const cleared = await waitFor(
      () => screen.alarmMessages().find((a) => a.id === fault.id && a.state === 'resolved'),
      'device_fault cleared',
      30_000,
    );
    expect(cleared.resolvedBy).toBe('system');
    expect((await local()).storeFault).toBe(false);
    // And the next call is durable again.
    devices.send({ device: 'btn-203', type: 'call' });
    await waitFor(() => gateway.lines.some((l) => l.msg === 'event accepted' && l.deviceId === 'btn-203'), 'a durable event', 20_000);
    expect(gateway.child.exitCode).toBeNull();
  });
});

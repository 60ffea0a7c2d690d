// A serial device unplugged (its pty pair closed) and plugged in again (re-created at the same
// path): the gateway reports the fault once, retries with backoff, and reads the device again on
// its own, with no restart.
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Alarm } from '../../protocol/index.ts';
import { registerSite, startTestGateway, startTestServer, type TestServer, tempDir, waitFor } from '../helpers/harness.ts';

const dir = tempDir('care-unplug-');
const device = path.join(dir, 'radar-gw');
const radar = path.join(dir, 'radar-dev');
const cleanups: Array<() => unknown> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function plugIn(): Promise<{ proc: ChildProcess; fd: number }> {
  const proc = spawn('/usr/bin/socat', ['-d', '-d', `pty,raw,echo=0,link=${device}`, `pty,raw,echo=0,link=${radar}`], { stdio: 'ignore' });
  await waitFor(() => fs.existsSync(device) && fs.existsSync(radar), 'pty pair');
  return { proc, fd: fs.openSync(radar, fs.constants.O_RDWR | fs.constants.O_NOCTTY) };
}
async function unplug(p: { proc: ChildProcess; fd: number }) {
  fs.closeSync(p.fd);
  p.proc.kill();
  await new Promise((r) => p.proc.once('exit', r));
  await waitFor(() => !fs.existsSync(device), 'pty gone');
}

const FALL = Buffer.from('5359830100010132' + '5443', 'hex');

const alarms = async (server: TestServer) => (await server.api<{ alarms: Alarm[] }>('GET', '/api/v1/alarms')).body.alarms;

describe('serial unplug', () => {
  it('the gateway reports the fault once and recovers when the device is back', async () => {
    const server = await startTestServer();
    cleanups.push(() => server.stop());
    const site = await registerSite(server);
    let plug = await plugIn();
    const gateway = await startTestGateway(server, site, {
      serial: [{ path: device, baudRate: 115200, protocol: 'seeed-5359', device: 'radar-203' }],
    });
    cleanups.push(() => gateway.stop());
    // Until the adapter has the port open, frames go nowhere: send until the fall is seen.
    const first = await waitFor(async () => {
      fs.writeSync(plug.fd, FALL);
      return (await alarms(server)).find((a) => a.type === 'fall');
    }, 'first fall');
    await server.api('POST', `/api/v1/alarms/${first.id}/resolve`, { outcome: 'false_alarm' });

    await unplug(plug);
    const fault = await waitFor(
      async () => (await alarms(server)).find((a) => a.type === 'device_fault' && a.deviceId === 'radar-203'),
      'device fault',
    );
    expect(fault.count).toBe(1);

    plug = await plugIn();
    cleanups.push(() => unplug(plug).catch(() => undefined));
    // The adapter retries with backoff (1 s, 2 s, ...); keep sending until a new fall arrives.
    const second = await waitFor(
      async () => {
        // A fall after a no-fall frame is a new fall for the adapter.
        fs.writeSync(plug.fd, Buffer.from('5359830100010031' + '5443', 'hex'));
        fs.writeSync(plug.fd, FALL);
        return (await alarms(server)).find((a) => a.type === 'fall' && a.id !== first.id);
      },
      'fall after the device is back',
      20_000,
    );
    expect(second.deviceId).toBe('radar-203');
    const faults = (await alarms(server)).filter((a) => a.type === 'device_fault' && a.deviceId === 'radar-203');
    expect(faults).toHaveLength(1);
  }, 40_000);
});

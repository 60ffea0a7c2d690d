// Issue "Gateway: real devices in": Seeed radar frames written into a real pseudo-terminal reach the
// server as alarms and telemetry through a real gateway, and a serial port that is missing at start
// is a device fault that does not stop the gateway's other port. socat makes the pty pairs; the
// gateway opens one end with `serialport`, the test writes into the other.
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningGateway } from '../../gateway/gateway.ts';
import type { Alarm } from '../../protocol/index.ts';
import { type DemoSite, registerSite, startTestGateway, startTestServer, type TestServer, tempDir, waitFor } from '../helpers/harness.ts';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
// devices.md sections 1 and 2.
const FRAMES = {
  heartbeat5359: hex('53 59 01 01 00 01 0F BE 54 43'),
  fall5359: hex('53 59 83 01 00 01 01 32 54 43'),
  heartRate72_5359: hex('53 59 85 02 00 01 48 7C 54 43'),
  breathing16_5359: hex('53 59 81 02 00 01 10 40 54 43'),
  presentSof: hex('01 00 02 00 02 0F 09 F8 01 00 FE'),
  fallSof: hex('01 00 01 00 01 0E 02 F2 01 FE'),
  heartRate72Sof: hex('01 00 03 00 04 0A 15 E6 00 00 90 42 2D'),
};
// Noise with header look-alikes: a lone 53, a 53 59 with a bad frame, stray 01s, tail bytes.
const GARBAGE = hex('00 FF 53 00 59 53 59 83 01 00 01 01 00 54 43 01 01 02 54 43 AA');

interface PtyPair {
  /** The end the gateway opens, as a radar's serial port. */
  device: string;
  /** The end the test writes the radar's bytes into, held open: closing it would end socat. */
  radarFd: number;
}

const dir = tempDir('care-pty-');
const socats: ChildProcess[] = [];
const fds: number[] = [];

async function ptyPair(name: string): Promise<PtyPair> {
  const device = path.join(dir, `${name}-gw`);
  const radar = path.join(dir, `${name}-radar`);
  const proc = spawn('/usr/bin/socat', ['-d', '-d', `pty,raw,echo=0,link=${device}`, `pty,raw,echo=0,link=${radar}`], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  socats.push(proc);
  let log = '';
  proc.stderr?.on('data', (d: Buffer) => {
    log += d.toString();
  });
  await waitFor(() => proc.exitCode !== null || (fs.existsSync(device) && fs.existsSync(radar)), `socat ${name} ptys`);
  if (proc.exitCode !== null) throw new Error(`socat exited ${proc.exitCode}: ${log}`);
  const radarFd = fs.openSync(radar, fs.constants.O_RDWR | fs.constants.O_NOCTTY);
  fds.push(radarFd);
  return { device, radarFd };
}

/** Writes bytes into the radar end of a pty pair, as the radar's UART would. */
function send(pair: PtyPair, ...chunks: Buffer[]) {
  for (const c of chunks) fs.writeSync(pair.radarFd, c);
}

async function alarms(server: TestServer): Promise<Alarm[]> {
  const r = await server.api<{ alarms: Alarm[] }>('GET', '/api/v1/alarms');
  return r.body.alarms;
}

let server: TestServer;
let site: DemoSite;
let gateway: RunningGateway;
let radar5359: PtyPair;
let radarSof: PtyPair;
const gateways: RunningGateway[] = [];

beforeAll(async () => {
  [radar5359, radarSof] = await Promise.all([ptyPair('r203'), ptyPair('r204')]);
  server = await startTestServer();
  site = await registerSite(server, [
    { id: 'radar-203', kind: 'fall_detector' },
    { id: 'radar-204', kind: 'fall_detector' },
  ]);
  gateway = await startTestGateway(server, site, {
    serial: [
      { path: radar5359.device, baudRate: 115200, protocol: 'seeed-5359', device: 'radar-203' },
      { path: radarSof.device, baudRate: 115200, protocol: 'seeed-sof', device: 'radar-204' },
    ],
  });
  gateways.push(gateway);
});

afterAll(async () => {
  for (const g of gateways) await g.stop();
  await server?.stop();
  for (const fd of fds) fs.closeSync(fd);
  for (const p of socats) p.kill();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('Seeed radars over a real serial line', () => {
  it('garbage then a 53 59 fall frame on the radar port raises a fall alarm for radar-203', async () => {
    send(radar5359, GARBAGE, FRAMES.heartbeat5359, GARBAGE, FRAMES.fall5359);
    const fall = await waitFor(
      async () => (await alarms(server)).find((a) => a.type === 'fall' && a.deviceId === 'radar-203'),
      'fall alarm',
    );
    expect(fall).toMatchObject({ priority: 'high', state: 'active', residentId: site.residentId, room: '203' });
  });

  it('a fall frame from an 01-SOF radar raises a fall alarm for radar-204', async () => {
    send(radarSof, GARBAGE, FRAMES.presentSof, GARBAGE, FRAMES.fallSof);
    const fall = await waitFor(
      async () => (await alarms(server)).find((a) => a.type === 'fall' && a.deviceId === 'radar-204'),
      'fall alarm',
    );
    expect(fall).toMatchObject({ priority: 'high', state: 'active', residentId: site.residentId });
  });

  it('heart-rate and breathing frames become telemetry for the resident within seconds', async () => {
    send(radar5359, FRAMES.heartRate72_5359, FRAMES.breathing16_5359);
    send(radarSof, FRAMES.heartRate72Sof);
    type Points = { points: Array<{ metric: string; value: number; device: string }> };
    const telemetry = async (metric: string) =>
      (await server.api<Points>('GET', `/api/v1/residents/${site.residentId}/telemetry?metric=${metric}`)).body.points;
    const heart = await waitFor(
      async () => {
        const points = await telemetry('heart_rate');
        return ['radar-203', 'radar-204'].every((d) => points.some((p) => p.device === d && p.value === 72)) ? points : undefined;
      },
      'heart_rate points from both radars',
      5000,
    );
    expect(heart.length).toBeGreaterThanOrEqual(2);
    const resp = await waitFor(async () => (await telemetry('resp_rate')).find((p) => p.device === 'radar-203'), 'resp_rate point', 5000);
    expect(resp.value).toBe(16);
  });

  it('a serial port missing at start raises one device_fault alarm and the gateway keeps serving its other port', async () => {
    const pair = await ptyPair('r205');
    const other = await registerSite(server, [
      { id: 'radar-205', kind: 'fall_detector' },
      { id: 'radar-206', kind: 'fall_detector' },
    ]);
    const gw = await startTestGateway(server, other, {
      serial: [
        { path: path.join(dir, 'no-such-port'), baudRate: 115200, protocol: 'seeed-5359', device: 'radar-206' },
        { path: pair.device, baudRate: 115200, protocol: 'seeed-5359', device: 'radar-205' },
      ],
    });
    gateways.push(gw);
    // The adapter reports through the gateway's sink: count its reports of the missing port.
    let faultReports = 0;
    const report = gw.sink.fault.bind(gw.sink);
    gw.sink.fault = (device, message) => {
      if (device === 'radar-206') faultReports += 1;
      report(device, message);
    };
    const fault = await waitFor(
      async () => (await alarms(server)).find((a) => a.type === 'device_fault' && a.deviceId === 'radar-206'),
      'device_fault alarm',
    );
    expect(fault).toMatchObject({ priority: 'low', gatewayId: other.gatewayId, state: 'active' });

    send(pair, GARBAGE, FRAMES.fall5359);
    await waitFor(
      async () => (await alarms(server)).find((a) => a.type === 'fall' && a.deviceId === 'radar-205'),
      'fall alarm from the other port',
    );
    // A retry of the missing port (after 1 s) is the same fault episode: no second event, no second alarm.
    await waitFor(() => faultReports >= 1, 'a retry of the missing port');
    await waitFor(() => gw.outboxDepth().events === 0, 'events committed');
    const faults = (await alarms(server)).filter((a) => a.type === 'device_fault' && a.deviceId === 'radar-206');
    expect(faults).toHaveLength(1);
    expect(faults[0]?.count).toBe(1);
  });
});

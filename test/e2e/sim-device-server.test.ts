// The simulated serial device server (`sim serial --listen`) and the demo: a TCP client receives
// valid NDJSON lines and valid radar frames, and a real gateway reading the demo's NDJSON port
// over `tcp://` raises alarms on a real server.

import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RunningGateway } from '../../gateway/gateway.ts';
import { parseNdjsonLine } from '../../gateway/parsers/ndjson.ts';
import type { SleepReport } from '../../protocol/api.ts';
import type { Alarm } from '../../protocol/index.ts';
import { type RunningDemo, runDemo, seededRandom } from '../../simulators/demo.ts';
import { scenarioStart } from '../../simulators/scenario-file.ts';
import { type DemoSite, registerSite, startTestGateway, startTestServer, type TestServer, tempDir, waitFor } from '../helpers/harness.ts';
import { startSim } from './sim-helpers.ts';

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGTERM');
});

/** Starts `sim serial --listen 127.0.0.1:0 ...` and resolves with the port it bound. */
async function serialServer(args: string[]): Promise<number> {
  const sim = startSim(['serial', '--listen', '127.0.0.1:0', ...args]);
  children.push(sim.child);
  const m = await waitFor(() => /listening on tcp:\/\/127\.0\.0\.1:(\d+)/.exec(sim.stderrSoFar()), 'the simulator to listen', 15_000);
  return Number(m[1]);
}

/** Connects and collects bytes until `enough` says so. */
async function receive(port: number, enough: (bytes: Buffer) => boolean): Promise<Buffer> {
  const sock = net.connect({ host: '127.0.0.1', port });
  let bytes = Buffer.alloc(0);
  sock.on('data', (d) => {
    bytes = Buffer.concat([bytes, d]);
  });
  try {
    await waitFor(() => enough(bytes), 'bytes from the device server');
    return bytes;
  } finally {
    sock.destroy();
  }
}

/** Splits a buffer of 53 59 frames by their length fields, checking header, checksum and tail. */
function frames5359(buf: Buffer): Array<{ ctrl: number; cmd: number; data: Buffer }> {
  const out = [];
  let i = 0;
  while (i + 9 <= buf.length) {
    expect([buf[i], buf[i + 1]]).toEqual([0x53, 0x59]);
    const n = buf.readUInt16BE(i + 4);
    if (i + 9 + n > buf.length) break;
    const sum = [...buf.subarray(i, i + 6 + n)].reduce((a, b) => a + b, 0) & 0xff;
    expect(buf[i + 6 + n]).toBe(sum);
    expect([buf[i + 7 + n], buf[i + 8 + n]]).toEqual([0x54, 0x43]);
    out.push({ ctrl: buf[i + 2] as number, cmd: buf[i + 3] as number, data: buf.subarray(i + 6, i + 6 + n) });
    i += 9 + n;
  }
  return out;
}

describe('sim serial --listen (serial device server)', () => {
  it('a connected client receives valid NDJSON lines: readings and scripted events', async () => {
    const script = path.join(tempDir('care-sim-'), 'script.json');
    fs.writeFileSync(script, JSON.stringify([{ at: '100ms', device: 'btn-9', type: 'call' }]));
    const port = await serialServer(['--protocol', 'ndjson', '--device', 'band-9', '--vitals', '100ms', '--script', script, '--repeat']);
    const bytes = await receive(port, (b) => b.includes('"call"') && b.includes('heart_rate'));
    const lines = bytes.toString('utf8').split('\n').slice(0, -1);
    expect(lines.length).toBeGreaterThan(1);
    const parsed = lines.map(parseNdjsonLine);
    expect(parsed.filter((m) => m.kind === 'invalid')).toEqual([]);
    expect(parsed).toContainEqual({ kind: 'event', device: 'btn-9', type: 'call' });
    expect(parsed.some((m) => m.kind === 'reading' && m.device === 'band-9' && m.metric === 'heart_rate')).toBe(true);
  });

  it('a connected client receives valid 53 59 frames: heartbeat, heart rate, breathing', async () => {
    const port = await serialServer(['--protocol', 'seeed-5359', '--device', 'radar-9', '--vitals', '100ms', '--heartbeat', '150ms']);
    const bytes = await receive(port, (b) => b.length >= 60);
    const frames = frames5359(bytes);
    expect(frames.some((f) => f.ctrl === 0x01 && f.cmd === 0x01 && f.data[0] === 0x0f)).toBe(true);
    const heart = frames.find((f) => f.ctrl === 0x85 && f.cmd === 0x02);
    expect(heart?.data[0]).toBeGreaterThanOrEqual(60);
    expect(heart?.data[0]).toBeLessThanOrEqual(90);
    expect(frames.some((f) => f.ctrl === 0x81 && f.cmd === 0x02)).toBe(true);
  });

  it('a script step the wire cannot carry is refused at start', async () => {
    const script = path.join(tempDir('care-sim-'), 'script.json');
    fs.writeFileSync(script, JSON.stringify([{ at: '0s', type: 'call' }]));
    const run = await startSim(['serial', '--listen', '127.0.0.1:0', '--protocol', 'seeed-sof', '--device', 'r', '--script', script]).done;
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/seeed-sof radars have no frame for a call event/);
  });
});

describe('runDemo with a real gateway and server', () => {
  let server: TestServer;
  let site: DemoSite;
  let demo: RunningDemo | undefined;
  let gateway: RunningGateway | undefined;
  beforeAll(async () => {
    server = await startTestServer();
    site = await registerSite(server);
  });
  afterAll(async () => {
    await gateway?.stop();
    await demo?.stop();
    await server?.stop();
  });

  it('the gateway reads the demo NDJSON port over tcp:// and residents activity raises alarms; last night is replayed into the sleep report', async () => {
    const lines: string[] = [];
    // The last whole night in the site's time zone (as npm start picks it): in bed 21:40, up 06:35.
    const bedAt = scenarioStart({ hour: 21, minute: 40 }, 'Asia/Shanghai', (14 * 60 + 20) * 60_000);
    const upAt = bedAt + (8 * 60 + 55) * 60_000;
    const night = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' }).format(new Date(bedAt));
    demo = await runDemo(
      {
        ports: [
          { listen: '127.0.0.1:0', protocol: 'ndjson' },
          { listen: '127.0.0.1:0', protocol: 'seeed-5359', device: 'radar-203' },
        ],
        residents: [
          { name: 'Wang', room: '203', callButton: 'btn-203', bedSensor: 'bed-203', radar: 'radar-203', radarProtocol: 'seeed-5359' },
        ],
        lastNight: { bedAt: new Date(bedAt).toISOString(), upAt: new Date(upAt).toISOString() },
      },
      { timeScale: 600, random: seededRandom(7), print: (l) => lines.push(l), vitalsEveryMs: 200 },
    );
    const [ndjsonAddress, radarAddress] = demo.addresses;
    expect(radarAddress).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
    gateway = await startTestGateway(server, site, { serial: [{ path: ndjsonAddress, protocol: 'ndjson' }] });
    // The demo's resident calls or leaves bed every 0.1-0.3 s at x600; a call is a high alarm.
    const alarm = await waitFor(
      async () => {
        const r = await server.api<{ alarms: Alarm[] }>('GET', '/api/v1/alarms');
        return r.body.alarms.find((a) => a.type === 'call' && a.deviceId === 'btn-203');
      },
      'a call alarm from the demo',
      // Live activity starts after last night's replay (about 16 s).
      45_000,
    );
    expect(alarm.priority).toBe('high');
    expect(lines.some((l) => l.startsWith('room 203 (Wang): '))).toBe(true);
    // The radar port streams real frames to whoever connects.
    const radarPort = Number(radarAddress?.split(':').at(-1));
    const frames = frames5359(await receive(radarPort, (b) => b.length >= 40));
    expect(frames.some((f) => f.ctrl === 0x85)).toBe(true);
    // Last night, replayed through the gateway with its past timestamps, is in the sleep report.
    expect(lines.some((l) => l.startsWith('last night replayed'))).toBe(true);
    const report = await waitFor(
      async () => {
        const r = await server.api<SleepReport>('GET', `/api/v1/residents/${site.residentId}/sleep?from=${night}&to=${night}`);
        const n = r.body.nights[0];
        return n && n.score !== null && n.outOfBedAt !== null && n.heartRate !== null ? n : undefined;
      },
      "last night's sleep report",
      20_000,
    );
    expect(report).toMatchObject({
      night,
      inBedAt: new Date(bedAt).toISOString(),
      outOfBedAt: new Date(upAt).toISOString(),
      timesOutOfBed: 1,
    });
    expect(report.minutesAsleep).toBeGreaterThan(7 * 60);
    expect(report.minutesDeep).toBeGreaterThan(0);
  }, 90_000);

  it("last night's replay does not make a bed sensor look offline (it is heard now first)", async () => {
    await gateway?.stop();
    await demo?.stop();
    const r = await server.api('POST', '/api/v1/devices', {
      id: 'bed-299',
      gatewayId: site.gatewayId,
      kind: 'bed_sensor',
      residentId: site.residentId,
    });
    expect(r.status).toBe(201);
    const lines: string[] = [];
    const bedAt = scenarioStart({ hour: 21, minute: 40 }, 'Asia/Shanghai', (14 * 60 + 20) * 60_000);
    const started = new Date().toISOString();
    // Real time: the resident's own bed exits come minutes later, after the checks below.
    demo = await runDemo(
      {
        ports: [{ listen: '127.0.0.1:0', protocol: 'ndjson' }],
        residents: [{ name: 'Li', room: '299', bedSensor: 'bed-299' }],
        lastNight: { bedAt: new Date(bedAt).toISOString(), upAt: new Date(bedAt + 8 * 3600_000).toISOString() },
      },
      { timeScale: 1, random: seededRandom(3), print: (l) => lines.push(l) },
    );
    gateway = await startTestGateway(server, site, { serial: [{ path: demo.addresses[0] as string, protocol: 'ndjson' }] });
    await waitFor(() => lines.some((l) => l.startsWith('last night replayed')), 'replay', 60_000);
    // Two supervision sweeps (every 5 s) after last night's bed exit came in.
    await new Promise((res) => setTimeout(res, 11_000));
    const device = await server.api<{ lastSeen: string | null }>('GET', '/api/v1/devices/bed-299');
    expect(device.body.lastSeen && device.body.lastSeen >= started).toBe(true);
    const all = (await server.api<{ alarms: Alarm[] }>('GET', '/api/v1/alarms')).body.alarms;
    expect(all.filter((a) => a.type === 'device_offline' && a.deviceId === 'bed-299')).toEqual([]);
  }, 120_000);
});

// `npm start` end to end: scripts/start.ts as a user runs it (server, device simulator, gateway,
// GPS watch simulator, Zigbee2MQTT bridge), in a temporary data directory on free ports. From the
// first start the demo resident's sleep report has last night (replayed through the gateway), the
// outdoor watch of room 204 reports positions and its wearer has a home zone, and nothing is
// reported offline or faulty.
import { type ChildProcess, spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SleepReport } from '../../protocol/api.ts';
import type { Alarm } from '../../protocol/index.ts';
import { freePort } from '../../scripts/free-port.ts';
import { scenarioStart } from '../../simulators/scenario-file.ts';
import { tempDir, waitFor } from '../helpers/harness.ts';

const PASSWORD = 'demo-start-test-password';
let child: ChildProcess | undefined;
let output = '';
let url = '';
let token = '';

async function api<T>(route: string): Promise<{ status: number; body: T }> {
  const res = await fetch(`${url}${route}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, body: (await res.json()) as T };
}

beforeAll(async () => {
  const [http, mqtt, watch] = [await freePort(), await freePort(), await freePort()];
  url = `http://127.0.0.1:${http}`;
  child = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts'], {
    env: {
      ...process.env,
      CARE_DATA_DIR: tempDir('care-demo-'),
      CARE_BIND_HOST: '127.0.0.1',
      CARE_HTTP_PORT: String(http),
      CARE_MQTT_PORT: String(mqtt),
      CARE_WATCH_PORT: String(watch),
      CARE_ADMIN_PASSWORD: PASSWORD,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (b: Buffer) => {
    output += b.toString();
  });
  child.stderr?.on('data', (b: Buffer) => {
    output += b.toString();
  });
  await waitFor(() => output.includes('demo is running') || child?.exitCode !== null, 'the demo to start', 120_000);
  expect(output).toContain('demo is running');
  const login = await fetch(`${url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: PASSWORD }),
  });
  token = ((await login.json()) as { token: string }).token;
}, 150_000);
afterAll(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((r) => child?.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
}, 60_000);

describe('npm start (scripts/start.ts)', () => {
  it("shows last night's sleep report and the outdoor watch on its home zone from the first start", async () => {
    // The night start.ts replays: the last one (21:40 to 06:35 Asia/Shanghai) that ended by noon.
    const bedAt = scenarioStart({ hour: 21, minute: 40 }, 'Asia/Shanghai', (14 * 60 + 20) * 60_000);
    const night = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' }).format(new Date(bedAt));
    let last: unknown = null;
    const report = await waitFor(
      async () => {
        const r = await api<SleepReport>(`/api/v1/residents/res-201/sleep?from=${night}&to=${night}`);
        const n = r.body.nights[0];
        last = r.body;
        return n && n.score !== null && n.heartRate !== null && n.outOfBedAt !== null ? n : undefined;
      },
      "res-201's sleep report for last night",
      90_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}; last report: ${JSON.stringify(last)}; the demo printed:\n${output.slice(-2000)}`);
    });
    expect(report.inBedAt).toBe(new Date(bedAt).toISOString());
    expect(report.minutesAsleep).toBeGreaterThan(7 * 60);

    const position = await waitFor(
      async () => {
        const r = await api<{ points: Array<{ metric: string; value: number; device: string }> }>(
          '/api/v1/residents/res-204/telemetry?metric=latitude',
        );
        return r.body.points.find((p) => p.device === '868120301234567');
      },
      "the watch's position",
      60_000,
    );
    expect(Math.abs(position.value - 29.56301)).toBeLessThan(0.01);
    const resident = await api<{ settings: { homeZone?: { radiusMeters: number } } }>('/api/v1/residents/res-204');
    expect(resident.body.settings.homeZone?.radiusMeters).toBe(300);

    const alarms = (await api<{ alarms: Alarm[] }>('/api/v1/alarms')).body.alarms;
    expect(alarms.filter((a) => a.type === 'device_offline' || a.type === 'device_fault')).toEqual([]);
  }, 180_000);
});

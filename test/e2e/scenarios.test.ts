// Every shipped scenario (simulators/scenarios/*.json) runs here with its own expectations, through
// the simulator CLI as an installer runs it, against a real server and broker whose clock is fake:
// where a rule waits on server time (supervision, a bed exit not followed by a return, the
// daily-living watch's minute), the test moves that clock while the simulator waits for its alarm.
// fall-in-bathroom and night-bed-exit-return run in sim-scenario.test.ts.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alarm } from '../../protocol/index.ts';
import { FakeClock } from '../helpers/fake-clock.ts';
import { ADMIN_PASSWORD, type DemoSite, registerSite, startTestServer, type TestServer, waitFor } from '../helpers/harness.ts';
import { type SimRun, startSim } from './sim-helpers.ts';

const clock = new FakeClock(Date.now());
let server: TestServer;
let site: DemoSite;

beforeAll(async () => {
  server = await startTestServer(undefined, { clock });
  site = await registerSite(server, [
    { id: 'btn-201', kind: 'call_button' },
    { id: 'bed-201', kind: 'bed_sensor' },
    { id: 'door-201', kind: 'door_sensor' },
    { id: 'band-201', kind: 'vitals_monitor' },
    { id: 'clip-201', kind: 'vitals_monitor' },
  ]);
  for (const [id, kind, room, supervisionSeconds] of [
    ['radar-201', 'fall_detector', '201', 60],
    ['pir-bath-201', 'presence_sensor', '201 bathroom', undefined],
    ['pir-living-201', 'presence_sensor', '201 living room', undefined],
  ] as const) {
    const r = await server.api('POST', '/api/v1/devices', {
      id,
      gatewayId: site.gatewayId,
      kind,
      residentId: site.residentId,
      room,
      ...(supervisionSeconds ? { supervisionSeconds } : {}),
    });
    expect(r.status).toBe(201);
  }
  // What the scenarios' descriptions ask of the resident. The daily-living checks other than the
  // bathroom one are put out of reach, so the clock moved for one scenario raises nothing else.
  const settings = await server.api('PUT', `/api/v1/residents/${site.residentId}/settings`, {
    wanderRisk: true,
    vitals: { heart_rate: { max: 110, sustainSeconds: 1 } },
    inactivityMinutes: 2880,
    dailyLiving: { upBy: '23:59', inBedBy: '11:59' },
  });
  expect(settings.status).toBe(200);
}, 60_000);
afterAll(async () => {
  await server?.stop();
});

const common = () => [
  '--url',
  server.mqttUrl,
  '--site',
  site.siteId,
  '--gateway',
  site.gatewayId,
  '--secret',
  site.secret,
  '--api',
  server.url,
  '--username',
  'admin',
  '--password',
  ADMIN_PASSWORD,
];

/** Plays a shipped scenario; `drive` moves the server's clock by that much every 300 ms once the steps are sent. */
async function play(file: string, timeScale: number, devices: string[], drive?: { stepMs: number; afterLine: RegExp }): Promise<SimRun> {
  const args = [
    'scenario',
    path.join('simulators/scenarios', file),
    '--time-scale',
    String(timeScale),
    ...devices.flatMap((d) => ['--device', d]),
  ];
  const sim = startSim([...args, ...common()]);
  let finished = false;
  const done = sim.done.finally(() => {
    finished = true;
  });
  if (drive) {
    await waitFor(() => finished || drive.afterLine.test(sim.stderrSoFar()), `scenario ${file} steps sent`, 60_000);
    while (!finished) {
      clock.advance(drive.stepMs);
      await server.tick();
      await new Promise((r) => setTimeout(r, 300));
    }
  }
  return done;
}
const alarms = async () => (await server.api<{ alarms: Alarm[] }>('GET', '/api/v1/alarms')).body.alarms;

describe('shipped scenarios against a real server', () => {
  it('every shipped scenario file is run by a test', () => {
    const covered = new Set([
      'fall-in-bathroom.json',
      'night-bed-exit-return.json',
      'wander-at-night.json',
      'call-and-cancel.json',
      'vitals-drift.json',
      'bed-exit-no-return.json',
      'device-silent.json',
      'spot-vitals.json',
      'long-bathroom-stay.json',
    ]);
    const shipped = fs.readdirSync('simulators/scenarios').filter((f) => f.endsWith('.json'));
    expect(shipped.filter((f) => !covered.has(f))).toEqual([]);
  });

  it('call and cancel: the call is raised (high) and cleared by the cancel', async () => {
    const run = await play('call-and-cancel.json', 60, ['button=btn-201']);
    expect(run.stderr).toMatch(/ok: "call" alarm, priority high/);
    expect(run.stderr).toMatch(/ok: "call" alarm, state resolved/);
    expect(run.code).toBe(0);
  }, 60_000);

  it('wander at night: a wander-risk resident opening the door at 03:00 raises a high wander alarm', async () => {
    const run = await play('wander-at-night.json', 60, ['bed=bed-201', 'door=door-201']);
    expect(run.stderr).toMatch(/ok: "wander" alarm, priority high/);
    expect(run.code).toBe(0);
  }, 60_000);

  it('vitals drift: a heart rate climbing past the limit raises a vitals alarm', async () => {
    const run = await play('vitals-drift.json', 120, ['band=band-201']);
    expect(run.stderr).toMatch(/ok: "vitals" alarm/);
    expect(run.code).toBe(0);
  }, 60_000);

  it('spot vitals (new): one SpO2 reading raises at once, one low glucose makes it high', async () => {
    const run = await play('spot-vitals.json', 60, ['clip=clip-201']);
    expect(run.stderr).toMatch(/ok: "vitals" alarm, priority high/);
    expect(run.code).toBe(0);
  }, 60_000);

  it('bed exit with no return: the alarm stays open, and becomes high after 10 minutes of server time', async () => {
    const run = await play('bed-exit-no-return.json', 240, ['bed=bed-201']);
    expect(run.stderr).toMatch(/ok: "bed_exit" alarm, state active/);
    expect(run.code).toBe(0);
    const exit = (await alarms()).find((a) => a.type === 'bed_exit' && a.state === 'active');
    expect(exit?.priority).toBe('medium');
    clock.advance(10 * 60_000 + 2000);
    await server.tick();
    await waitFor(async () => (await alarms()).find((a) => a.id === exit?.id && a.priority === 'high'), 'bed exit upgraded to high');
  }, 60_000);

  it('long bathroom stay (new): the daily-living watch raises a welfare check naming the bathroom', async () => {
    const run = await play('long-bathroom-stay.json', 600, ['bath=pir-bath-201', 'living=pir-living-201'], {
      stepMs: 61_000,
      afterLine: /committed by the server/,
    });
    expect(run.stderr).toMatch(/ok: "inactivity" alarm, priority medium/);
    expect(run.code).toBe(0);
    const check = (await alarms()).find((a) => a.type === 'inactivity');
    expect(check?.note).toBe('daily_living.long_bathroom');
  }, 90_000);

  it('device silent: a radar that stops reporting is reported offline once its supervision interval passes', async () => {
    const run = await play('device-silent.json', 60, ['radar=radar-201'], { stepMs: 30_000, afterLine: /committed by the server/ });
    expect(run.stderr).toMatch(/ok: "device_offline" alarm/);
    expect(run.code).toBe(0);
  }, 120_000);
});

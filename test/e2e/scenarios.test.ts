// Every shipped scenario (simulators/scenarios/*.json) runs here with its own expectations, through
// the simulator's scenario runner in this process (sim-scenario.test.ts runs the CLI), against a real server and broker whose clock is fake:
// where a rule waits on server time (supervision, a bed exit not followed by a return, the
// daily-living watch's minute), the test moves that clock while the simulator waits for its alarm.
// fall-in-bathroom and night-bed-exit-return run in sim-scenario.test.ts; the daily-living scenarios
// with a 14-day history in scenarios-daily-living.test.ts.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alarm } from '../../protocol/index.ts';
import { loginApi } from '../../simulators/api.ts';
import { runScenario } from '../../simulators/scenario.ts';
import { loadScenario } from '../../simulators/scenario-file.ts';
import { FakeClock } from '../helpers/fake-clock.ts';
import { ADMIN_PASSWORD, type DemoSite, registerSite, startTestServer, type TestServer, waitFor } from '../helpers/harness.ts';

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
    { id: 'smoke-201', kind: 'smoke_detector' },
    { id: 'gas-201', kind: 'gas_detector' },
    { id: 'leak-201', kind: 'leak_sensor' },
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

/** What a scenario printed, and whether its expectations held (the runner the CLI uses, in process). */
interface Played {
  ok: boolean;
  output: string;
}

/** Plays a shipped scenario; `drive` moves the server's clock by that much every 300 ms once the steps are sent. */
async function play(file: string, timeScale: number, devices: Record<string, string>, drive?: { stepMs: number }): Promise<Played> {
  const lines: string[] = [];
  const api = await loginApi(server.url, 'admin', ADMIN_PASSWORD);
  let finished = false;
  const run = runScenario(loadScenario(path.join('simulators/scenarios', file)), {
    login: { url: server.mqttUrl, siteId: site.siteId, gatewayId: site.gatewayId, secret: site.secret },
    timeScale,
    devices,
    api,
    print: (line) => lines.push(line),
  }).finally(() => {
    finished = true;
  });
  if (drive) {
    await waitFor(() => finished || lines.some((l) => /committed by the server/.test(l)), `scenario ${file} steps sent`, 60_000);
    while (!finished) {
      clock.advance(drive.stepMs);
      await server.tick();
      await new Promise((r) => setTimeout(r, 300));
    }
  }
  const result = await run;
  return { ok: result.ok, output: [...lines, ...result.failures.map((f) => `FAIL ${f}`)].join('\n') };
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
      'smoke-alarm.json',
      'gas-leak.json',
      'water-leak.json',
      // In scenarios-daily-living.test.ts (each on its own resident, with its 14-day history):
      'not-up-by-usual-time.json',
      'no-movement-in-day.json',
      'not-back-in-bed-by-night.json',
    ]);
    const shipped = fs.readdirSync('simulators/scenarios').filter((f) => f.endsWith('.json'));
    expect(shipped.filter((f) => !covered.has(f))).toEqual([]);
  });

  it('call and cancel: the call is raised (high) and cleared by the cancel', async () => {
    const run = await play('call-and-cancel.json', 60, { button: 'btn-201' });
    expect(run.output).toMatch(/ok: "call" alarm, priority high/);
    expect(run.output).toMatch(/ok: "call" alarm, state resolved/);
    expect(run.ok).toBe(true);
  }, 60_000);

  it('wander at night: a wander-risk resident opening the door at 03:00 raises a high wander alarm', async () => {
    const run = await play('wander-at-night.json', 60, { bed: 'bed-201', door: 'door-201' });
    expect(run.output).toMatch(/ok: "wander" alarm, priority high/);
    expect(run.ok).toBe(true);
  }, 60_000);

  it('vitals drift: a heart rate climbing past the limit raises a vitals alarm', async () => {
    const run = await play('vitals-drift.json', 120, { band: 'band-201' });
    expect(run.output).toMatch(/ok: "vitals" alarm/);
    expect(run.ok).toBe(true);
  }, 60_000);

  it('spot vitals (new): one SpO2 reading raises at once, one low glucose makes it high', async () => {
    const run = await play('spot-vitals.json', 60, { clip: 'clip-201' });
    expect(run.output).toMatch(/ok: "vitals" alarm, priority high/);
    expect(run.ok).toBe(true);
  }, 60_000);

  it('bed exit with no return: the alarm stays open, and becomes high after 10 minutes of server time', async () => {
    const run = await play('bed-exit-no-return.json', 240, { bed: 'bed-201' });
    expect(run.output).toMatch(/ok: "bed_exit" alarm, state active/);
    expect(run.ok).toBe(true);
    const exit = (await alarms()).find((a) => a.type === 'bed_exit' && a.state === 'active');
    expect(exit?.priority).toBe('medium');
    clock.advance(10 * 60_000 + 2000);
    await server.tick();
    await waitFor(async () => (await alarms()).find((a) => a.id === exit?.id && a.priority === 'high'), 'bed exit upgraded to high');
  }, 60_000);

  it('long bathroom stay (new): the daily-living watch raises a welfare check naming the bathroom', async () => {
    // On a resident of its own: each scenario is placed at the last time of day its file names
    // before now, so another scenario of this file (a night one) can be later than this one's
    // morning, and the watch rightly takes this one's readings for a late backlog. It failed from
    // about 18:00 UTC on for that reason, whatever the code.
    const resident = await server.api<{ id: string }>('POST', '/api/v1/residents', {
      siteId: site.siteId,
      name: 'Bathroom',
      room: '202',
      bed: 'A',
    });
    expect(resident.status).toBe(201);
    for (const [id, room] of [
      ['pir-bath-202', '202 bathroom'],
      ['pir-living-202', '202 living room'],
    ] as const) {
      const d = await server.api('POST', '/api/v1/devices', {
        id,
        gatewayId: site.gatewayId,
        kind: 'presence_sensor',
        residentId: resident.body.id,
        room,
      });
      expect(d.status).toBe(201);
    }
    const settings = await server.api('PUT', `/api/v1/residents/${resident.body.id}/settings`, {
      inactivityMinutes: 2880,
      dailyLiving: { upBy: '23:59', inBedBy: '11:59' },
    });
    expect(settings.status).toBe(200);
    const run = await play('long-bathroom-stay.json', 600, { bath: 'pir-bath-202', living: 'pir-living-202' }, { stepMs: 61_000 });
    expect(run.output).toMatch(/ok: "inactivity" alarm, priority medium/);
    expect(run.ok).toBe(true);
    const check = (await alarms()).find((a) => a.type === 'inactivity' && a.residentId === resident.body.id);
    expect(check?.note).toBe('daily_living.long_bathroom');
  }, 90_000);

  it.each([
    ['smoke-alarm.json', 'smoke', { smoke: 'smoke-201' }],
    ['gas-leak.json', 'gas', { gas: 'gas-201' }],
    ['water-leak.json', 'water_leak', { leak: 'leak-201' }],
  ] as const)(
    'home safety (new): %s raises a high %s alarm on its sensor at once',
    async (file, type, devices) => {
      const run = await play(file, 60, devices);
      expect(run.output).toMatch(new RegExp(`ok: "${type}" alarm, priority high, device`));
      expect(run.ok).toBe(true);
    },
    60_000,
  );

  it('device silent: a radar that stops reporting is reported offline once its supervision interval passes', async () => {
    const run = await play('device-silent.json', 60, { radar: 'radar-201' }, { stepMs: 30_000 });
    expect(run.output).toMatch(/ok: "device_offline" alarm/);
    expect(run.ok).toBe(true);
  }, 120_000);
});

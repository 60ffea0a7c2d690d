// The daily-living scenarios (simulators/scenarios/not-up-by-usual-time, no-movement-in-day,
// not-back-in-bed-by-night) run here with their own expectations, through the simulator's scenario
// runner in this process, against a real server and broker on a fake clock. Each first sends its
// 14-day history (the resident's usual fortnight, as a gateway's backlog with past timestamps),
// then the scenario day; the test then moves the server's clock a minute at a time so the
// daily-living watch runs, and the expected welfare check (its note names the rule) must appear.
// Each rule also runs a negative copy of its file (the resident did get up, kept moving, went to
// bed) on another resident, which must raise nothing. One resident per run: a baseline is per
// resident, and a replayed fortnight older than what a resident already has is ignored.

import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loginApi } from '../../simulators/api.ts';
import { runScenario } from '../../simulators/scenario.ts';
import { loadScenario, parseScenario, type Scenario } from '../../simulators/scenario-file.ts';
import { FakeClock } from '../helpers/fake-clock.ts';
import { ADMIN_PASSWORD, type DemoSite, registerSite, startTestServer, type TestServer, waitFor } from '../helpers/harness.ts';

// The site is on UTC; the day starts at 08:01, after the not-up scenario's morning.
const clock = new FakeClock(Date.parse('2026-11-20T08:01:00.000Z'));
let server: TestServer;
let site: DemoSite;
let residents = 0;

beforeAll(async () => {
  // The day runs from 08:01 to 22:00: the admin's session must outlive it.
  server = await startTestServer(undefined, { clock, env: { CARE_TOKEN_TTL_MINUTES: '2880' } });
  site = await registerSite(server, [], { timezone: 'UTC' });
}, 60_000);
afterAll(async () => {
  await server?.stop();
});

/** A new resident with a bed sensor and bedroom and living-room presence sensors; their aliases. */
async function newResident(): Promise<Record<string, string>> {
  residents += 1;
  const n = residents;
  const r = await server.api<{ id: string }>('POST', '/api/v1/residents', {
    siteId: site.siteId,
    name: `Resident ${n}`,
    room: `30${n}`,
    bed: 'A',
  });
  expect(r.status).toBe(201);
  const devices = { bed: `bed-30${n}`, bedroom: `pir-bed-30${n}`, living: `pir-living-30${n}` };
  for (const [alias, kind, room] of [
    ['bed', 'bed_sensor', `30${n} bedroom`],
    ['bedroom', 'presence_sensor', `30${n} bedroom`],
    ['living', 'presence_sensor', `30${n} living room`],
  ] as const) {
    const d = await server.api('POST', '/api/v1/devices', {
      id: devices[alias],
      gatewayId: site.gatewayId,
      kind,
      residentId: r.body.id,
      room,
    });
    expect(d.status).toBe(201);
  }
  // A tolerance of 15 minutes, so the checks fall due before the night window (see the files).
  const s = await server.api('PUT', `/api/v1/residents/${r.body.id}/settings`, { dailyLiving: { toleranceMinutes: 15 } });
  expect(s.status).toBe(200);
  return devices;
}

/** Moves the fake clock forward to the next `hh:mm` UTC. */
function goToNext(hhmm: string) {
  const now = clock.now();
  const day = now - (now % 86_400_000);
  let t = day + (Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5))) * 60_000;
  if (t <= now) t += 86_400_000;
  clock.advance(t - now);
}

const file = (name: string) => path.join('simulators/scenarios', name);
const raw = (name: string) => JSON.parse(fs.readFileSync(file(name), 'utf8')) as Record<string, unknown> & { steps: unknown[] };

/** Plays a scenario on a new resident, then moves the server's clock by 61 s every 300 ms while its expectations are checked. */
async function play(scenario: Scenario) {
  const devices = await newResident();
  const lines: string[] = [];
  const api = await loginApi(server.url, 'admin', ADMIN_PASSWORD);
  let finished = false;
  const run = runScenario(scenario, {
    login: { url: server.mqttUrl, siteId: site.siteId, gatewayId: site.gatewayId, secret: site.secret },
    timeScale: 3600,
    devices,
    api,
    now: () => clock.now(),
    commitTimeoutMs: 30_000,
    print: (line) => lines.push(line),
  }).finally(() => {
    finished = true;
  });
  await waitFor(() => finished || lines.some((l) => /committed by the server/.test(l)), 'scenario steps sent', 60_000);
  // At most 15 minutes of server time: a check must fall due by then (without the baseline it
  // would come hours later, at the settings' outer limits).
  for (let step = 0; !finished; step += 1) {
    if (step < 15) {
      clock.advance(61_000);
      await server.tick();
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  const result = await run;
  return { ok: result.ok, events: result.events, output: [...lines, ...result.failures.map((f) => `FAIL ${f}`)].join('\n') };
}

describe('daily-living scenarios: a 14-day history, then the day judged against it', () => {
  it('not up by the usual time: a welfare check at 08:01 (usual 06:50), none for a resident who got up', async () => {
    const run = await play(loadScenario(file('not-up-by-usual-time.json')));
    expect(run.output).toMatch(/history: 14 day\(s\)/);
    expect(run.output).toMatch(/ok: "inactivity" alarm, priority medium, note daily_living.not_up/);
    expect(run.ok, run.output).toBe(true);

    const up = raw('not-up-by-usual-time.json');
    up.steps.push({ at: '50m', device: 'bed', type: 'bed_exit', note: 'up at 06:50 as usual' });
    up.expect = [{ type: 'inactivity', absent: true, within: '3s' }];
    const negative = await play(parseScenario(up, 'got up'));
    expect(negative.output).toMatch(/ok: no "inactivity" alarm/);
    expect(negative.ok, negative.output).toBe(true);
  }, 180_000);

  it('no movement in the day: a welfare check after 3.5 quiet hours (usual longest quiet 80 min), none for one who keeps moving', async () => {
    goToNext('11:31');
    const run = await play(loadScenario(file('no-movement-in-day.json')));
    expect(run.output).toMatch(/ok: "inactivity" alarm, priority medium, note daily_living.no_movement/);
    expect(run.ok, run.output).toBe(true);

    const moving = raw('no-movement-in-day.json');
    moving.steps.push({ at: '3h', device: 'living', type: 'presence', every: '40m' });
    moving.expect = [{ type: 'inactivity', absent: true, within: '3s' }];
    const negative = await play(parseScenario(moving, 'kept moving'));
    expect(negative.output).toMatch(/ok: no "inactivity" alarm/);
    expect(negative.ok, negative.output).toBe(true);
  }, 180_000);

  it('not back in bed by night: a welfare check at 21:31 (usual bedtime 21:00), none for one who went to bed', async () => {
    goToNext('21:31');
    const run = await play(loadScenario(file('not-back-in-bed-by-night.json')));
    expect(run.output).toMatch(/ok: "inactivity" alarm, priority medium, note daily_living.not_in_bed/);
    expect(run.ok, run.output).toBe(true);

    const inBed = raw('not-back-in-bed-by-night.json');
    inBed.steps = [
      { at: '0s', device: 'living', type: 'presence', every: '30m', until: '3h' },
      { at: '3h', device: 'bed', type: 'bed_return', note: 'in bed at 21:00 as usual' },
    ];
    inBed.expect = [{ type: 'inactivity', absent: true, within: '3s' }];
    const negative = await play(parseScenario(inBed, 'went to bed'));
    expect(negative.output).toMatch(/ok: no "inactivity" alarm/);
    expect(negative.ok, negative.output).toBe(true);
    // Nothing of the histories was judged a night-time bed exit (the server's time was still evening).
    const login = await server.api<{ token: string }>('POST', '/api/v1/auth/login', { username: 'admin', password: ADMIN_PASSWORD });
    const alarms = (await server.api<{ alarms: Array<{ type: string }> }>('GET', '/api/v1/alarms', undefined, login.body.token)).body
      .alarms;
    expect(alarms.filter((a) => a.type === 'bed_exit')).toEqual([]);
  }, 180_000);
});

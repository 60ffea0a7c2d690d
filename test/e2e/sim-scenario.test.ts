// The scenario runner as an installer's acceptance test: a shipped scenario at a high time scale
// passes its expectations against a real server; an impossible expectation fails, exit 1, with a
// message saying what was expected and what was seen.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, type DemoSite, registerSite, startTestServer, type TestServer, tempDir } from '../helpers/harness.ts';
import { runSim } from './sim-helpers.ts';

let server: TestServer;
let site: DemoSite;

beforeAll(async () => {
  server = await startTestServer();
  site = await registerSite(server);
});
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

describe('sim scenario', () => {
  it('the shipped fall-in-the-bathroom scenario passes at x60 against a real server', async () => {
    const run = await runSim([
      'scenario',
      'simulators/scenarios/fall-in-bathroom.json',
      '--time-scale',
      '60',
      '--device',
      'radar=radar-203',
      ...common(),
    ]);
    expect(run.stderr).toMatch(/ok: "fall" alarm, priority high/);
    expect(run.code).toBe(0);
  });

  it('the shipped night bed exit and return scenario passes: raised at 23:30 site time, then cleared', async () => {
    const run = await runSim([
      'scenario',
      'simulators/scenarios/night-bed-exit-return.json',
      '--time-scale',
      '120',
      '--device',
      'bed=bed-203',
      ...common(),
    ]);
    expect(run.stderr).toMatch(/Asia\/Shanghai/);
    expect(run.stderr).toMatch(/ok: "bed_exit" alarm, priority medium, state resolved/);
    expect(run.code).toBe(0);
  });

  it('an impossible expectation fails with exit 1 and a clear message', async () => {
    const file = path.join(tempDir('care-scenario-'), 'impossible.json');
    fs.writeFileSync(
      file,
      JSON.stringify({
        name: 'call reported as low',
        devices: { button: 'btn-203' },
        steps: [{ at: '0s', device: 'button', type: 'call' }],
        expect: [{ type: 'call', priority: 'low', device: 'button', within: '2s' }],
      }),
    );
    const run = await runSim(['scenario', file, '--time-scale', '60', ...common()]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /FAIL expect\[0\]: no "call" alarm, priority low, device btn-203 within 2000 ms; saw: [^\n]*call\/high\/active \(btn-203\)/,
    );
    expect(run.stderr).toMatch(/1 of 1 expectation\(s\) failed/);
  });

  it('a malformed scenario file is refused before anything is sent, naming the step', async () => {
    const file = path.join(tempDir('care-scenario-'), 'bad.json');
    fs.writeFileSync(file, JSON.stringify({ steps: [{ at: '0s', device: 'btn-203', type: 'explode' }] }));
    const run = await runSim(['scenario', file, ...common()]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/steps\[0\]\.type: "explode" is not one of/);
  });
});

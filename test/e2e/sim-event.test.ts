// The `event` direct mode end to end: the simulator CLI, as a child process, publishes as a
// registered gateway to a real server; the alarm appears and the command exits 0 only after the
// server's commit confirmation. A wrong secret exits non-zero and says why.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alarm } from '../../protocol/index.ts';
import { type DemoSite, registerSite, startTestServer, type TestServer, waitFor } from '../helpers/harness.ts';
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

const login = () => ['--url', server.mqttUrl, '--site', site.siteId, '--gateway', site.gatewayId];

describe('sim event (direct mode)', () => {
  it('a call raises a high alarm and the command exits 0 after the commit confirmation', async () => {
    const run = await runSim(['event', ...login(), '--secret', site.secret, '--device', 'btn-203', '--type', 'call']);
    expect(run.stderr).not.toMatch(/FAILED/);
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout.trim()) as { type: string; ids: string[] };
    expect(result.type).toBe('committed');
    expect(result.ids).toHaveLength(1);
    // Committed means stored: the alarm is there as soon as the command has returned.
    const list = await server.api<{ alarms: Alarm[] }>('GET', '/api/v1/alarms?state=active');
    expect(list.body.alarms.find((a) => a.type === 'call' && a.deviceId === 'btn-203')).toMatchObject({
      priority: 'high',
      residentId: site.residentId,
      gatewayId: site.gatewayId,
    });
  });

  it('takes the identity from the environment and sends --count events, each confirmed', async () => {
    const run = await runSim(['event', '--device', 'radar-203', '--type', 'fall', '--count', '3'], {
      CARE_UPLINK_URL: server.mqttUrl,
      CARE_SITE_ID: site.siteId,
      CARE_GATEWAY_ID: site.gatewayId,
      CARE_GATEWAY_SECRET: site.secret,
    });
    expect(run.code).toBe(0);
    expect((JSON.parse(run.stdout.trim()) as { ids: string[] }).ids).toHaveLength(3);
    const fall = await waitFor(async () => {
      const r = await server.api<{ alarms: Alarm[] }>('GET', '/api/v1/alarms?state=active');
      return r.body.alarms.find((a) => a.type === 'fall' && a.deviceId === 'radar-203');
    }, 'fall alarm');
    expect(fall.count).toBeGreaterThanOrEqual(3);
  });

  it('telemetry is accepted by the broker', async () => {
    const run = await runSim([
      'telemetry',
      ...login(),
      '--secret',
      site.secret,
      '--device',
      'radar-203',
      '--metric',
      'heart_rate',
      '--value',
      '72',
    ]);
    expect(run.code).toBe(0);
  });

  it('a wrong secret exits non-zero with a clear message', async () => {
    const run = await runSim([
      'event',
      ...login(),
      '--secret',
      'not-the-secret',
      '--device',
      'btn-203',
      '--type',
      'call',
      '--timeout',
      '5s',
    ]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/refused gateway .*unknown gateway id or wrong secret/);
  });

  it('a bad option exits 2 and points to --help', async () => {
    const run = await runSim(['event', ...login(), '--secret', site.secret, '--device', 'btn-203', '--type', 'explode']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--type: "explode" is not one of/);
    expect(run.stderr).toMatch(/--help/);
  });
});

// Device tests: a button pressed during its test raises a test alarm that never escalates and
// passes the test; a button that stays silent fails its test and raises a technical alarm.
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Alarm, gatewayTopic } from '../../protocol/index.ts';
import { FakeClock } from '../helpers/fake-clock.ts';
import { connectAsGateway, type DemoSite, registerSite, startTestServer, type TestServer, waitFor } from '../helpers/harness.ts';

const clock = new FakeClock(Date.parse('2026-11-23T02:00:00.000Z'));
let server: TestServer;
let site: DemoSite;
let gw: MqttClient;

beforeAll(async () => {
  server = await startTestServer(undefined, { clock });
  site = await registerSite(server);
  gw = await connectAsGateway(server, site);
});
afterAll(async () => {
  await gw?.endAsync();
  await server?.stop();
});

type Test = { result: string; alarmId: string | null };
const tests = async (device: string) => (await server.api<{ tests: Test[] }>('GET', `/api/v1/devices/${device}/tests`)).body.tests;

describe('device tests', () => {
  it('a press during the test is a test alarm that never escalates, and the test passes', async () => {
    expect((await server.api('POST', '/api/v1/devices/btn-203/test', { windowSeconds: 120 })).status).toBe(201);
    await gw.publishAsync(
      gatewayTopic(site.siteId, site.gatewayId, 'events'),
      JSON.stringify({ v: 1, id: 't-1', seq: 1, ts: clock.iso(), device: 'btn-203', type: 'call' }),
      { qos: 1 },
    );
    const alarm = await waitFor(
      async () => (await server.api<{ alarms: Alarm[] }>('GET', '/api/v1/alarms')).body.alarms.find((a) => a.deviceId === 'btn-203'),
      'test alarm',
    );
    expect(alarm).toMatchObject({ type: 'call', test: true });
    await waitFor(async () => (await tests('btn-203'))[0]?.result === 'passed', 'test passed');
    expect((await tests('btn-203'))[0]?.alarmId).toBe(alarm.id);
    clock.advance(3600_000);
    await server.tick();
    const later = (await server.api<{ alarms: Alarm[] }>('GET', '/api/v1/alarms')).body.alarms.find((a) => a.id === alarm.id);
    expect(later?.escalationLevel).toBe(0);
  });

  it('a silent button fails its test and raises a technical alarm', async () => {
    await server.api('POST', '/api/v1/devices/radar-203/test', { windowSeconds: 60 });
    clock.advance(61_000);
    await server.tick();
    expect((await tests('radar-203'))[0]?.result).toBe('failed');
    const fault = (await server.api<{ alarms: Alarm[] }>('GET', '/api/v1/alarms')).body.alarms.find(
      (a) => a.deviceId === 'radar-203' && a.type === 'device_fault',
    );
    expect(fault).toMatchObject({ priority: 'low', test: false });
  });
});

describe('weekly device check', () => {
  it('starts a test of every call button of the site at the scheduled local time, once', async () => {
    // Monday 2026-11-23 09:59 in Asia/Shanghai is 01:59 UTC.
    const c = new FakeClock(Date.parse('2026-11-23T01:59:00.000Z'));
    const s = await startTestServer(undefined, { clock: c });
    const st = await registerSite(s, [
      { id: 'btn-w1', kind: 'call_button' },
      { id: 'btn-w2', kind: 'call_button' },
      { id: 'radar-w', kind: 'fall_detector' },
    ]);
    const put = await s.api('PUT', `/api/v1/sites/${st.siteId}/test-schedule`, { weekday: 1, time: '10:00', windowSeconds: 600 });
    expect(put.status).toBe(200);
    const testsOf = async (d: string) =>
      (await s.api<{ tests: Array<{ result: string; by: string }> }>('GET', `/api/v1/devices/${d}/tests`)).body.tests;
    await s.tick();
    expect(await testsOf('btn-w1')).toHaveLength(0);
    c.advance(61_000);
    await s.tick();
    await s.tick();
    expect(await testsOf('btn-w1')).toEqual([expect.objectContaining({ result: 'pending', by: 'schedule' })]);
    expect(await testsOf('btn-w2')).toHaveLength(1);
    expect(await testsOf('radar-w')).toHaveLength(0);
    await s.stop();
  });
});

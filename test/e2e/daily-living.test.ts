// The 24-hour watch end to end, on a fake clock: a real server and broker, a raw MQTT client as the
// gateway sending bed events and per-room presence readings for 14 simulated days (the resident's
// baseline: up at 06:50, a 10-minute bathroom visit, never still for more than 90 minutes), then a
// 15th day judged against it: not up by the usual time, a long bathroom stay and no movement raise a
// medium `inactivity` welfare check whose note names the reason, and each clears itself when the
// resident moves again. The overview's last known room comes from the same data.
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Alarm, gatewayTopic } from '../../protocol/index.ts';
import { FakeClock } from '../helpers/fake-clock.ts';
import {
  ADMIN_PASSWORD,
  connectAsGateway,
  type DemoSite,
  registerSite,
  startTestServer,
  type TestServer,
  waitFor,
} from '../helpers/harness.ts';

const DAY0 = Date.parse('2026-11-01T00:00:00.000Z');
const clock = new FakeClock(DAY0);
let server: TestServer;
let site: DemoSite;
let gw: MqttClient;
let seq = 0;
let token: string;
/** The fake fortnight outlives a login: a call refused for an expired session logs in again. */
async function api<T>(method: string, route: string, body?: unknown) {
  const first = await server.api<T>(method, route, body, token);
  if (first.status !== 401) return first;
  token = (await server.api<{ token: string }>('POST', '/api/v1/auth/login', { username: 'admin', password: ADMIN_PASSWORD })).body.token;
  return server.api<T>(method, route, body, token);
}

interface Whereabouts {
  residentId: string;
  lastRoom: string | null;
  lastMotionAt: string | null;
  present: boolean;
  inBed: boolean | null;
}

const at = (day: number, hhmm: string) =>
  DAY0 + (day - 1) * 86_400_000 + (Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5))) * 60_000;
/** Moves the fake clock to `t` (never backwards). */
function goTo(t: number) {
  if (t > clock.now()) clock.advance(t - clock.now());
}
async function whereabouts(): Promise<Whereabouts | undefined> {
  const r = await api<{ residents: Whereabouts[] }>('GET', '/api/v1/whereabouts');
  return r.body.residents.find((w) => w.residentId === site.residentId);
}
async function event(device: string, type: string) {
  seq += 1;
  const ts = clock.iso();
  await gw.publishAsync(
    gatewayTopic(site.siteId, site.gatewayId, 'events'),
    JSON.stringify({ v: 1, id: `dl-${seq}`, seq, ts, device, type }),
    { qos: 1 },
  );
  await waitFor(async () => (await whereabouts())?.lastMotionAt === ts, `${type} recorded`);
}
async function presence(device: string, value: 0 | 1) {
  const ts = clock.iso();
  await gw.publishAsync(
    gatewayTopic(site.siteId, site.gatewayId, 'telemetry'),
    JSON.stringify({ v: 1, ts, points: [{ device, metric: 'presence', value, ts }] }),
    { qos: 1 },
  );
  await waitFor(async () => {
    const w = await whereabouts();
    return value === 1 ? w?.lastMotionAt === ts : w?.present === false;
  }, `presence ${device}=${value} recorded`);
}
async function readings(points: Array<{ device: string; value: number; ts: string }>) {
  await gw.publishAsync(
    gatewayTopic(site.siteId, site.gatewayId, 'telemetry'),
    JSON.stringify({ v: 1, ts: clock.iso(), points: points.map((p) => ({ ...p, metric: 'presence' })) }),
    { qos: 1 },
  );
  const last = points.at(-1)?.ts;
  await waitFor(async () => (await whereabouts())?.lastMotionAt === last, 'readings recorded');
}
async function welfareChecks(): Promise<Alarm[]> {
  return (await api<{ alarms: Alarm[] }>('GET', '/api/v1/alarms')).body.alarms.filter((a) => a.type === 'inactivity');
}
/** Runs the checks at `t`: at least 62 s after the previous run, so the once-a-minute gate is open. */
async function checkAt(t: number) {
  goTo(t);
  await server.tick();
}
const openCheck = async () => (await welfareChecks()).find((a) => a.state !== 'resolved');

beforeAll(async () => {
  server = await startTestServer(undefined, { clock });
  site = await registerSite(server, [], { timezone: 'UTC' });
  for (const [id, kind, room] of [
    ['bed-1', 'bed_sensor', 'bedroom'],
    ['pir-bed', 'presence_sensor', 'bedroom'],
    ['pir-living', 'presence_sensor', 'living room'],
    ['pir-bath', 'presence_sensor', 'bathroom'],
  ] as const) {
    const r = await server.api('POST', '/api/v1/devices', { id, gatewayId: site.gatewayId, kind, residentId: site.residentId, room });
    expect(r.status).toBe(201);
  }
  // Learning fortnight: recorded, not judged.
  const off = await server.api('PUT', `/api/v1/residents/${site.residentId}/settings`, { dailyLiving: { enabled: false } });
  expect(off.status).toBe(200);
  gw = await connectAsGateway(server, site);
  token = server.token;
}, 60_000);
afterAll(async () => {
  await gw?.endAsync();
  await server?.stop();
});

describe('daily living over 14 simulated days, then a day judged against them', () => {
  it('records a usual fortnight', async () => {
    for (let d = 1; d <= 14; d += 1) {
      goTo(at(d, '06:50'));
      await event('bed-1', 'bed_exit');
      // The day's presence readings in one batch, as a gateway sends them after a short outage.
      const day: Array<[string, string]> = [
        ['08:00', 'pir-living'],
        ['09:30', 'pir-bed'],
        ['11:00', 'pir-living'],
        ['12:00', 'pir-bath'],
        ['12:10', 'pir-living'],
        ['13:40', 'pir-bed'],
        ['15:10', 'pir-living'],
        ['16:40', 'pir-bed'],
        ['18:10', 'pir-living'],
        ['19:40', 'pir-bed'],
        ['21:00', 'pir-living'],
      ];
      goTo(at(d, '21:00'));
      await readings(day.map(([hhmm, device]) => ({ device, value: 1, ts: new Date(at(d, hhmm)).toISOString() })));
      goTo(at(d, '21:30'));
      await event('bed-1', 'bed_return');
    }
    expect(await welfareChecks()).toEqual([]);
    const w = await whereabouts();
    expect(w).toMatchObject({ lastRoom: 'bedroom', inBed: true });
    const on = await api('PUT', `/api/v1/residents/${site.residentId}/settings`, {
      dailyLiving: { enabled: true, toleranceMinutes: 15 },
    });
    expect(on.status).toBe(200);
  }, 120_000);

  it('not up by the usual time (06:50 + 15 min, long before the 10:00 setting): a welfare check; getting up clears it', async () => {
    goTo(at(15, '06:00'));
    await checkAt(at(15, '07:03'));
    expect(await openCheck()).toBeUndefined();
    await checkAt(at(15, '07:05') + 2000);
    const alarm = await waitFor(openCheck, 'not-up welfare check');
    expect(alarm).toMatchObject({ priority: 'medium', residentId: site.residentId, note: 'daily_living.not_up' });
    goTo(at(15, '07:20'));
    await event('bed-1', 'bed_exit');
    await checkAt(at(15, '07:21') + 3000);
    const cleared = await waitFor(async () => (await welfareChecks()).find((a) => a.id === alarm.id && a.state === 'resolved'), 'cleared');
    expect(cleared.outcome).toBe('cleared');
  }, 60_000);

  it('a bathroom stay past the usual 10 min + 15 is a welfare check; leaving clears it', async () => {
    goTo(at(15, '08:30'));
    await presence('pir-living', 1);
    goTo(at(15, '09:00'));
    await presence('pir-bath', 1);
    await checkAt(at(15, '09:24'));
    expect(await openCheck()).toBeUndefined();
    await checkAt(at(15, '09:25') + 2000);
    const alarm = await waitFor(openCheck, 'long bathroom welfare check');
    expect(alarm.note).toBe('daily_living.long_bathroom');
    const history = await api<{ history: Array<{ action: string; detail: Record<string, unknown> }> }>('GET', `/api/v1/alarms/${alarm.id}`);
    expect(history.body.history.find((h) => h.action === 'raised')?.detail).toMatchObject({
      reason: 'long_bathroom',
      room: 'bathroom',
      limitMinutes: 25,
    });
    goTo(at(15, '09:40'));
    await presence('pir-bath', 0);
    await checkAt(at(15, '09:41') + 3000);
    await waitFor(async () => (await welfareChecks()).find((a) => a.id === alarm.id && a.state === 'resolved'), 'cleared');
  }, 60_000);

  it('no movement anywhere for the usual longest quiet x 1.5 + 15 (150 min, under the 240 setting); moving clears it', async () => {
    // The last movement was arriving in the bathroom at 09:00.
    await checkAt(at(15, '11:29'));
    expect(await openCheck()).toBeUndefined();
    await checkAt(at(15, '11:30') + 2000);
    const alarm = await waitFor(openCheck, 'no-movement welfare check');
    expect(alarm.note).toBe('daily_living.no_movement');
    goTo(at(15, '11:45'));
    await presence('pir-living', 1);
    await checkAt(at(15, '11:46') + 3000);
    await waitFor(async () => (await welfareChecks()).find((a) => a.id === alarm.id && a.state === 'resolved'), 'cleared');
    expect(await whereabouts()).toMatchObject({ lastRoom: 'living room', present: true, inBed: false });
  }, 60_000);
});

// The sleep report end to end: a real server and broker, a raw MQTT client as the gateway sending a
// night of bed and sleep-state events (as the MR60BHA1 decoder or a mattress over NDJSON emits them)
// and heart/breathing readings, then GET /api/v1/residents/{id}/sleep: the night and the week.
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SleepReport } from '../../protocol/api.ts';
import { gatewayTopic } from '../../protocol/index.ts';
import { FakeClock } from '../helpers/fake-clock.ts';
import { connectAsGateway, type DemoSite, registerSite, startTestServer, type TestServer, waitFor } from '../helpers/harness.ts';

const clock = new FakeClock(Date.parse('2026-11-20T21:50:00.000Z'));
let server: TestServer;
let site: DemoSite;
let gw: MqttClient;
let seq = 0;

const at = (day: number, hhmm: string) => Date.parse(`2026-11-${day}T${hhmm}:00.000Z`);
function goTo(t: number) {
  if (t > clock.now()) clock.advance(t - clock.now());
}
async function event(type: string, data?: Record<string, unknown>) {
  seq += 1;
  await gw.publishAsync(
    gatewayTopic(site.siteId, site.gatewayId, 'events'),
    JSON.stringify({ v: 1, id: `sl-${seq}`, seq, ts: clock.iso(), device: 'mattress-1', type, ...(data ? { data } : {}) }),
    { qos: 1 },
  );
}
async function readings(points: Array<[string, number]>) {
  await gw.publishAsync(
    gatewayTopic(site.siteId, site.gatewayId, 'telemetry'),
    JSON.stringify({
      v: 1,
      ts: clock.iso(),
      points: points.map(([metric, value]) => ({ device: 'mattress-1', metric, value, ts: clock.iso() })),
    }),
    { qos: 1 },
  );
}
const report = async (query = '') => server.api<SleepReport>('GET', `/api/v1/residents/${site.residentId}/sleep${query}`);

beforeAll(async () => {
  server = await startTestServer(undefined, { clock });
  site = await registerSite(server, [{ id: 'mattress-1', kind: 'bed_sensor' }], { timezone: 'UTC' });
  gw = await connectAsGateway(server, site);
}, 60_000);
afterAll(async () => {
  await gw?.endAsync();
  await server?.stop();
});

describe('sleep report', () => {
  it('a night of bed and sleep-state reports becomes one night: in bed, asleep, awake, out, vital ranges, score', async () => {
    goTo(at(20, '22:00'));
    await event('bed_return');
    goTo(at(20, '22:20'));
    await event('sleep_state', { state: 'light' });
    goTo(at(20, '23:00'));
    await event('sleep_state', { state: 'deep' });
    // Events and readings travel in separate lanes: the readings count once the night has begun.
    await waitFor(async () => (await report('?from=2026-11-20&to=2026-11-20')).body.nights[0]?.asleepAt, 'night begun');
    await readings([
      ['heart_rate', 58],
      ['resp_rate', 13],
    ]);
    goTo(at(21, '02:00'));
    await event('sleep_state', { state: 'light' });
    await readings([
      ['heart_rate', 64],
      ['resp_rate', 15],
    ]);
    // Nonsense from a mattress is ignored, never stored as a state.
    await event('sleep_state', { state: 'dreaming' });
    goTo(at(21, '05:50'));
    await event('sleep_state', { state: 'awake' });
    goTo(at(21, '06:00'));
    await event('bed_exit');
    await readings([['sleep_score', 81]]);
    const r = await waitFor(async () => {
      const res = await report('?from=2026-11-14&to=2026-11-20');
      const n = res.body.nights[0];
      return n?.outOfBedAt && n.score !== null && n.heartRate?.max === 64 && n.respRate?.max === 15 ? res : undefined;
    }, 'night summed up');
    expect(r.status).toBe(200);
    expect(r.body.nights).toEqual([
      {
        night: '2026-11-20',
        inBedAt: '2026-11-20T22:00:00.000Z',
        asleepAt: '2026-11-20T22:20:00.000Z',
        wokeAt: '2026-11-21T05:50:00.000Z',
        outOfBedAt: '2026-11-21T06:00:00.000Z',
        minutesInBed: 480,
        minutesAsleep: 450,
        minutesDeep: 180,
        minutesLight: 270,
        minutesAwake: 10,
        timesOutOfBed: 1,
        heartRate: { min: 58, max: 64 },
        respRate: { min: 13, max: 15 },
        score: 81,
      },
    ]);
    expect(r.body.summary).toEqual({ nights: 1, avgMinutesAsleep: 450, avgMinutesInBed: 480, avgTimesOutOfBed: 1, avgScore: 81 });
  }, 60_000);

  it('the default range is the week ending today; bad ranges are refused; an unknown resident is 404', async () => {
    const week = await report();
    expect(week.body).toMatchObject({ from: '2026-11-15', to: '2026-11-21' });
    expect(week.body.nights.map((n) => n.night)).toEqual(['2026-11-20']);
    expect((await report('?from=2026-11-22&to=2026-11-20')).status).toBe(400);
    expect((await report('?from=yesterday')).status).toBe(400);
    expect((await server.api('GET', '/api/v1/residents/nobody/sleep')).status).toBe(404);
  });
});

// GPS watches through a real TCP socket against the real server (DESIGN.md 3.10): frames written
// from the protocol's documented examples (devices.md "GPS watches"), split and coalesced; bad
// frames and unknown IMEIs refused and counted; an SOS is a call alarm on a caregiver's screen; a
// position outside the home zone at night is a wander alarm, by day nothing (fake clock).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runWatch } from '../../simulators/watch.ts';
import { FakeClock } from '../helpers/fake-clock.ts';
import { type DemoSite, registerSite, Screen, startTestServer, type TestServer, waitFor } from '../helpers/harness.ts';
import {
  DeviceSocket,
  expectFloodHeldToRate,
  expectGarbageOnlyClosed,
  expectOneActiveAlarm,
  expectSilentClosedAndTotalBounded,
  expectWanderOnlyOutsideAtNight,
  HOME,
  metric,
  NIGHT,
  registerWearerSite,
  waitForHomeLatitude,
} from '../helpers/wearables.ts';

const IMEI = '8800000015';

/** A watch on a real socket: what it sends, and every byte the server answers. */
class Watch extends DeviceSocket {
  received = '';
  protected onData(d: Buffer) {
    this.received += d.toString('latin1');
  }
  static async open(server: TestServer): Promise<Watch> {
    const w = new Watch(server.watchPort as number);
    await w.ready;
    return w;
  }
  send(text: string | Buffer) {
    this.write(text);
  }
  /** Sends a keep-alive and waits for its answer: everything sent before it has been handled. */
  async sync(id = IMEI) {
    const before = this.received.split('*LK]').length;
    this.send(`[3G*${id}*0002*LK]`);
    await waitFor(() => this.received.split('*LK]').length > before, 'LK answer');
  }
}

/** A frame with its LEN (content length in hex), as a watch builds it. */
const frame = (content: string, id = IMEI, maker = '3G') =>
  `[${maker}*${id}*${content.length.toString(16).toUpperCase().padStart(4, '0')}*${content}]`;

/** `ddmmyy,hhmmss` (UTC) of a time. */
function watchDate(ms: number): string {
  const d = new Date(ms);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(d.getUTCDate())}${two(d.getUTCMonth() + 1)}${two(d.getUTCFullYear() % 100)},${two(d.getUTCHours())}${two(d.getUTCMinutes())}${two(d.getUTCSeconds())}`;
}

/** A position report in the documented field order; status in hex (16 SOS, 21 fall). */
const report = (kind: 'UD' | 'AL', at: number, lat: number, lon: number, status = '00000000') =>
  frame(`${kind},${watchDate(at)},A,${lat.toFixed(6)},N,${lon.toFixed(6)},E,0.00,0,300,8,90,80,1,0,${status},0,0`);

describe('GPS watches (watch protocol over TCP)', () => {
  let server: TestServer;
  let site: DemoSite;
  const clock = new FakeClock(NIGHT);

  beforeAll(async () => {
    server = await startTestServer(undefined, { clock, env: { CARE_WATCH_MAX_PER_ADDRESS: '4' } });
    site = await registerWearerSite(server, [
      { id: IMEI, kind: 'gps_watch' },
      { id: '7700000001', kind: 'call_button' },
    ]);
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
  });

  it('answers a keep-alive in the documented form, also when it comes in pieces and with others', async () => {
    const w = await Watch.open(server);
    const lk = `[3G*${IMEI}*0002*LK]`;
    w.send(lk.slice(0, 5));
    await new Promise((r) => setTimeout(r, 30)); // a separate TCP segment
    w.send(lk.slice(5));
    await waitFor(() => w.received === lk, 'LK answer');
    // Coalesced: three frames in one write get three answers.
    w.send(lk + lk + frame('LK,50,100,77'));
    await waitFor(() => w.received === lk.repeat(4), 'three more LK answers');
    w.close();
  });

  it('an SOS report is a call alarm on a caregiver screen, answered AL once stored; the resend is the same event', async () => {
    const screen = await Screen.open(server);
    const w = await Watch.open(server);
    const sos = report('AL', clock.now(), HOME.lat, HOME.lon, '00010000');
    w.send(sos.slice(0, 40));
    await new Promise((r) => setTimeout(r, 30));
    w.send(sos.slice(40));
    const alarm = await screen.waitForAlarm((a) => a.type === 'call' && a.deviceId === IMEI, 'call alarm from the watch');
    expect(alarm).toMatchObject({ priority: 'high', residentId: site.residentId, gatewayId: site.gatewayId, unregistered: false });
    await waitFor(() => w.received.includes(`[3G*${IMEI}*0002*AL]`), 'AL answer');
    // The watch had no answer and sends it again: stored once, no second alarm, no new count.
    w.send(sos);
    await waitFor(() => w.received.split('*AL]').length === 3, 'second AL answer');
    await expectOneActiveAlarm(server, 'call', IMEI);
    // Its position went to telemetry.
    await waitForHomeLatitude(server, site.residentId);
    // Over two days the chart is downsampled: a position keeps its metres (six decimals), not 0.01° (1 km).
    const days = await server.api<{ points: Array<{ value: number }> }>(
      'GET',
      `/api/v1/residents/${site.residentId}/telemetry?metric=latitude&from=${new Date(NIGHT - 86_400_000).toISOString()}&to=${new Date(NIGHT + 86_400_000).toISOString()}`,
    );
    expect(days.body.points.map((p) => p.value)).toContain(HOME.lat);
    await server.api('POST', `/api/v1/alarms/${alarm.id}/resolve`, { note: 'test' });
    w.close();
    screen.close();
  });

  it('a fall flag in an alarm report is a fall alarm', async () => {
    const screen = await Screen.open(server);
    const w = await Watch.open(server);
    w.send(report('AL', clock.now() + 1000, HOME.lat, HOME.lon, '00200000'));
    const alarm = await screen.waitForAlarm((a) => a.type === 'fall' && a.deviceId === IMEI, 'fall alarm from the watch');
    expect(alarm.priority).toBe('high');
    await server.api('POST', `/api/v1/alarms/${alarm.id}/resolve`, { note: 'test' });
    w.close();
    screen.close();
  });

  it('an unknown IMEI is refused: the connection is closed and counted, nothing is raised', async () => {
    const before = await metric(server, 'care_watch_refused_total', 'reason="unknown_imei"');
    const w = await Watch.open(server);
    w.send(report('AL', clock.now(), HOME.lat, HOME.lon, '00010000').replace(IMEI, '9999999999'));
    await waitFor(() => w.closed, 'connection closed');
    expect(w.received).toBe('');
    expect(await metric(server, 'care_watch_refused_total', 'reason="unknown_imei"')).toBe(before + 1);
    // A registered device that is not a watch is refused the same way.
    const b = await Watch.open(server);
    b.send(frame('LK', '7700000001'));
    await waitFor(() => b.closed, 'connection closed');
  });

  it('bad frames are counted and refused; a good frame after one is still answered; only garbage is closed', async () => {
    const before = await metric(server, 'care_watch_frames_total', 'outcome="garbage"');
    const w = await Watch.open(server);
    w.send(`GET / HTTP/1.1\r\n\r\n[3G*${IMEI}*0002*LK]`);
    await waitFor(() => w.received === `[3G*${IMEI}*0002*LK]`, 'LK answer after garbage');
    expect(await metric(server, 'care_watch_frames_total', 'outcome="garbage"')).toBe(before + 1);
    await expectGarbageOnlyClosed(await Watch.open(server));
    expect(await metric(server, 'care_watch_refused_total', 'reason="garbage"')).toBeGreaterThanOrEqual(1);
    w.close();
  });

  it('a watch flooding frames is held to its rate: the excess is dropped and counted', async () => {
    const w = await Watch.open(server);
    await expectFloodHeldToRate(
      server,
      'watch',
      () => w.send(`[3G*${IMEI}*0002*LK]`.repeat(60)),
      () => w.received.split('*LK]').length - 1,
    );
    // Past its frame rate, the watch's SOS still goes through (alarms have a budget of their own):
    // answered AL once stored. Dropped with the routine frames on the old code.
    clock.advance(120_000);
    w.send(report('AL', clock.now(), HOME.lat, HOME.lon, '00010000'));
    await waitFor(() => w.received.includes(`[3G*${IMEI}*0002*AL]`), 'AL answer past the frame rate');
    w.close();
  });

  it('connections from one address are bounded', async () => {
    const open = await Promise.all([0, 1, 2, 3].map(() => Watch.open(server)));
    await waitFor(async () => (await metric(server, 'care_watch_connections', '')) >= 0, 'metrics');
    const fifth = await Watch.open(server);
    await waitFor(() => fifth.closed, 'fifth connection refused');
    expect(await metric(server, 'care_watch_refused_total', 'reason="per_address"')).toBe(1);
    for (const w of open) {
      expect(w.closed).toBe(false);
      w.close();
    }
  });

  it('the watch simulator speaks the protocol: its positions are answered, its SOS key is a call alarm', async () => {
    const screen = await Screen.open(server);
    const sim = runWatch({
      server: { host: '127.0.0.1', port: server.watchPort as number },
      imei: IMEI,
      home: HOME,
      walkMeters: 100,
      reportEveryMs: 50,
      print: () => undefined,
    });
    await waitFor(() => sim.answers.includes(`[3G*${IMEI}*0002*LK]`), 'LK answer to the simulator');
    // The simulator's reports carry the real time, hours from the test's fake clock: judged by receipt.
    // The simulator stamps its reports with real time; when that is far from this test's fake
    // clock, the server takes the time of receipt, and an event's id is made from that time: a
    // minute on, so this SOS is not taken for an earlier test's resend.
    clock.advance(60_000);
    sim.alarm('sos');
    await screen.waitForAlarm((a) => a.type === 'call' && a.deviceId === IMEI && a.state === 'active', 'call alarm from the simulator');
    await waitFor(() => sim.answers.includes(`[3G*${IMEI}*0002*AL]`), 'AL answer to the simulator');
    await sim.stop();
    screen.close();
  });

  it('leaving the home zone by day raises nothing; inside at night nothing; outside at night a wander alarm', async () => {
    const w = await Watch.open(server);
    await expectWanderOnlyOutsideAtNight(server, clock, { deviceId: IMEI, residentId: site.residentId }, async (at, p, answered) => {
      w.send(report('UD', at, p.lat, p.lon));
      if (answered) await w.sync();
    });
    w.close();
  });
});

describe('GPS watch connection limits', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(undefined, { env: { CARE_WATCH_IDLE_SECONDS: '1', CARE_WATCH_MAX_CONNECTIONS: '2' } });
    await registerSite(server, [{ id: IMEI, kind: 'gps_watch' }]);
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
  });

  it('a silent connection and a silent watch are closed; connections in all are bounded', async () => {
    await expectSilentClosedAndTotalBounded(
      server,
      'watch',
      () => Watch.open(server),
      (w) => w.sync(),
    );
  });
});

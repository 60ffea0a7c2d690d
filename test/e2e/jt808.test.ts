// JT/T 808 terminals through a real TCP socket against the real server: registration (0x0100 ->
// 0x8100), authentication, heartbeat, location reports with the SOS and fall alarm bits raising call
// and fall alarms on a caregiver's screen, a position outside the home zone at night raising wander
// (fake clock), unknown terminals refused and counted, bad frames counted without losing the good
// frames after them, Traccar's real-device frames (2013 and 2019 editions) answered, and the
// simulator driving it all.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkCode, createFrameReader, encodeFrame, encodePhone, type Jt808Message } from '../../server/jt808/codec.ts';
import { ALARM, encodeLocation, MSG } from '../../server/jt808/messages.ts';
import { jt808Frame, jt808Location, runJt808 } from '../../simulators/jt808.ts';
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

const PHONE = '13912345678';
// Traccar Jt808ProtocolDecoderTest: a wearable's location with battery item 0x06, and a 2019 registration.
const TRACCAR_LOCATION = '7e0200001f01207646327900400000000000006002015c7ab706d20469003b0000000025040216362606013e6b7e';
const TRACCAR_REGISTRATION_2019 =
  '7e0100405c010000086649607758216452180000000000000000000000000000004d443330300000000000000000000000000000000000000000000000000038363634393630373735383231363400000000000000000000000000000004000000000000000000000000000000007a7e';

/** A terminal on a real socket: what it sends, and every message the server answers. */
class Terminal extends DeviceSocket {
  readonly answers: Jt808Message[] = [];
  private serial = 0;
  private readonly reader = createFrameReader();
  constructor(
    port: number,
    readonly phone = PHONE,
  ) {
    super(port);
  }
  protected onData(d: Buffer) {
    for (const r of this.reader.push(d)) {
      if (!r.ok) throw new Error(`server sent a bad frame: ${r.reason}`);
      this.answers.push(r.message);
    }
  }
  static async open(server: TestServer, phone = PHONE): Promise<Terminal> {
    const t = new Terminal(server.jt808Port as number, phone);
    await t.ready;
    return t;
  }
  /** Sends a message; returns its serial number. */
  send(messageId: number, body: Buffer = Buffer.alloc(0)): number {
    this.serial += 1;
    this.socket.write(encodeFrame(messageId, { version: null, phoneRaw: encodePhone(this.phone) }, this.serial, body));
    return this.serial;
  }
  /** The server's 0x8001 to a message of ours: [answered id, result]. */
  async ackOf(serial: number, what = 'general response'): Promise<{ answered: number; result: number }> {
    const m = await waitFor(
      () => this.answers.find((a) => a.header.messageId === MSG.platformAck && a.body.readUInt16BE(0) === serial),
      what,
    );
    return { answered: m.body.readUInt16BE(2), result: m.body[4] as number };
  }
}

/** A 2013 registration body: province, city, maker, model, terminal id, plate colour, plate. */
const registration = () =>
  Buffer.concat([Buffer.from([0, 50, 1, 0]), Buffer.from('CARE0'), Buffer.alloc(20, 0x41), Buffer.from('1234567'), Buffer.from([0])]);

describe('GPS watches speaking JT/T 808 over TCP', () => {
  let server: TestServer;
  let site: DemoSite;
  const clock = new FakeClock(NIGHT);

  beforeAll(async () => {
    server = await startTestServer(undefined, { clock, env: { CARE_JT808_PORT: '0' } });
    site = await registerWearerSite(server, [
      { id: PHONE, kind: 'gps_watch' },
      { id: '7700000002', kind: 'call_button' },
    ]);
    // Traccar's devices, at another site without a home zone (their positions are in Shenzhen).
    await registerSite(server, [
      { id: '12076463279', kind: 'gps_watch' },
      { id: '866496077582164', kind: 'gps_watch' },
    ]);
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
  });

  it('registers (0x8100 with an auth code), authenticates and answers heartbeats, also when frames come in pieces', async () => {
    const t = await Terminal.open(server);
    const reg = jt808Frame(MSG.register, PHONE, 1, registration());
    t.write(reg.subarray(0, 7));
    await new Promise((r) => setTimeout(r, 30)); // a separate TCP segment
    t.write(reg.subarray(7));
    const answer = await waitFor(() => t.answers.find((a) => a.header.messageId === MSG.registerAck), 'registration answer');
    expect(answer.header.terminal).toBe(PHONE);
    expect(answer.body.readUInt16BE(0)).toBe(1);
    expect(answer.body[2]).toBe(0);
    const code = answer.body.subarray(3);
    expect(code.length).toBeGreaterThan(0);
    expect(await t.ackOf(t.send(MSG.auth, code))).toEqual({ answered: MSG.auth, result: 0 });
    // Two heartbeats in one write: two answers.
    const s1 = t.send(MSG.heartbeat);
    const s2 = t.send(MSG.heartbeat);
    expect(await t.ackOf(s1)).toEqual({ answered: MSG.heartbeat, result: 0 });
    expect(await t.ackOf(s2)).toEqual({ answered: MSG.heartbeat, result: 0 });
    // Logout: answered, then the server ends the connection.
    expect(await t.ackOf(t.send(MSG.logout))).toEqual({ answered: MSG.logout, result: 0 });
    await waitFor(() => t.closed || t.socket.readableEnded, 'connection ended after logout');
    t.close();
  });

  it('an SOS (alarm bit 0) is a call alarm, answered once stored; the resend is the same event; the position is telemetry', async () => {
    const screen = await Screen.open(server);
    const t = await Terminal.open(server);
    t.send(MSG.auth, Buffer.from(PHONE));
    const body = encodeLocation({ at: clock.now(), lat: HOME.lat, lon: HOME.lon, battery: 77, alarm: ALARM.sos });
    const first = t.send(MSG.location, body);
    const alarm = await screen.waitForAlarm((a) => a.type === 'call' && a.deviceId === PHONE, 'call alarm from the terminal');
    expect(alarm).toMatchObject({ priority: 'high', residentId: site.residentId, gatewayId: site.gatewayId, unregistered: false });
    expect(await t.ackOf(first, 'location answer')).toEqual({ answered: MSG.location, result: 0 });
    // Resent (no answer reached it): stored once, no second alarm, no new count.
    expect((await t.ackOf(t.send(MSG.location, body), 'second location answer')).result).toBe(0);
    await expectOneActiveAlarm(server, 'call', PHONE);
    await waitForHomeLatitude(server, site.residentId);
    await server.api('POST', `/api/v1/alarms/${alarm.id}/resolve`, { note: 'test' });
    t.close();
    screen.close();
  });

  it('a fall (alarm bit 29) is a fall alarm', async () => {
    const screen = await Screen.open(server);
    const t = await Terminal.open(server);
    t.send(MSG.location, encodeLocation({ at: clock.now() + 1000, lat: HOME.lat, lon: HOME.lon, alarm: ALARM.fall }));
    const alarm = await screen.waitForAlarm((a) => a.type === 'fall' && a.deviceId === PHONE, 'fall alarm from the terminal');
    expect(alarm.priority).toBe('high');
    await server.api('POST', `/api/v1/alarms/${alarm.id}/resolve`, { note: 'test' });
    t.close();
    screen.close();
  });

  it('a batch (0x0704, blind-area resend) is read position by position: an SOS inside it is a call alarm, answered once stored', async () => {
    const screen = await Screen.open(server);
    const t = await Terminal.open(server);
    const item = (p: Buffer) => Buffer.concat([Buffer.from([p.length >> 8, p.length & 0xff]), p]);
    const batch = Buffer.concat([
      Buffer.from([0, 2, 1]),
      item(encodeLocation({ at: clock.now() - 120_000, lat: HOME.lat, lon: HOME.lon, alarm: ALARM.sos, battery: 64 })),
      item(encodeLocation({ at: clock.now() - 60_000, lat: HOME.lat, lon: HOME.lon })),
    ]);
    const serial = t.send(MSG.batch, batch);
    const alarm = await screen.waitForAlarm(
      (a) => a.type === 'call' && a.deviceId === PHONE && a.state === 'active',
      'call alarm from the batch',
    );
    expect(await t.ackOf(serial, 'batch answer')).toEqual({ answered: MSG.batch, result: 0 });
    await server.api('POST', `/api/v1/alarms/${alarm.id}/resolve`, { note: 'test' });
    t.close();
    screen.close();
  });

  it('an unknown terminal is told so (0x8100 result 4), closed and counted; a registered non-watch is refused too', async () => {
    const before = await metric(server, 'care_jt808_refused_total', 'reason="unknown_terminal"');
    const securityBefore = await metric(server, 'care_security_events_total', 'kind="jt808_unknown_terminal"');
    const t = await Terminal.open(server, '13000000001');
    t.send(MSG.register, registration());
    t.send(MSG.location, encodeLocation({ at: clock.now(), lat: HOME.lat, lon: HOME.lon, alarm: ALARM.sos }));
    await waitFor(() => t.closed, 'connection closed');
    expect(t.answers.map((a) => [a.header.messageId, a.body[2]])).toEqual([[MSG.registerAck, 4]]);
    expect(await metric(server, 'care_jt808_refused_total', 'reason="unknown_terminal"')).toBe(before + 1);
    expect(await metric(server, 'care_security_events_total', 'kind="jt808_unknown_terminal"')).toBe(securityBefore + 1);
    const b = await Terminal.open(server, '7700000002');
    b.send(MSG.heartbeat);
    await waitFor(() => b.closed, 'connection closed');
    expect(b.answers).toEqual([]);
    expect(await metric(server, 'care_jt808_refused_total', 'reason="not_a_watch"')).toBe(1);
  });

  it('bad frames are counted and refused, the good frames around them answered; unsupported ones are said so', async () => {
    const bad = async (reason: string) => metric(server, 'care_jt808_frames_total', `outcome="${reason}"`);
    const [checksum0, garbage0, subpackage0] = [await bad('checksum'), await bad('garbage'), await bad('subpackage')];
    const t = await Terminal.open(server);
    const s1 = t.send(MSG.heartbeat);
    // A heartbeat with a wrong check code, then garbage, then a good heartbeat: one write.
    const broken = jt808Frame(MSG.heartbeat, PHONE, 100, Buffer.alloc(0));
    broken[broken.length - 2] = (broken[broken.length - 2] as number) ^ 0xff;
    t.write(Buffer.concat([broken, Buffer.from('GET / HTTP/1.1\r\n\r\n'), jt808Frame(MSG.heartbeat, PHONE, 101, Buffer.alloc(0))]));
    expect((await t.ackOf(s1)).result).toBe(0);
    expect((await t.ackOf(101)).result).toBe(0);
    expect(t.answers.some((a) => a.body.readUInt16BE(0) === 100)).toBe(false);
    expect(await bad('checksum')).toBe(checksum0 + 1);
    expect(await bad('garbage')).toBe(garbage0 + 1);
    // A subpackaged message (properties bit 13): refused, counted, answered "not supported" (3).
    const head = Buffer.alloc(4);
    head.writeUInt16BE(MSG.location, 0);
    const body = Buffer.concat([Buffer.from([0, 2, 0, 1]), encodeLocation({ at: clock.now(), lat: HOME.lat, lon: HOME.lon })]);
    head.writeUInt16BE((body.length - 4) | 0x2000, 2);
    const raw = Buffer.concat([head, encodePhone(PHONE), Buffer.from([0, 102]), body]);
    const framed = Buffer.concat([Buffer.from([0x7e]), raw, Buffer.from([checkCode(raw), 0x7e])]);
    expect(framed.subarray(1, -1).includes(0x7e)).toBe(false);
    t.write(framed);
    expect(await t.ackOf(102)).toEqual({ answered: MSG.location, result: 3 });
    expect(await bad('subpackage')).toBe(subpackage0 + 1);
    // Still connected and answered.
    expect((await t.ackOf(t.send(MSG.heartbeat))).result).toBe(0);
    expect(t.closed).toBe(false);
    // Only a connection sending nothing but garbage is closed.
    await expectGarbageOnlyClosed(await Terminal.open(server));
    t.close();
  });

  it("answers Traccar's real-device frames: a wearable's location with battery, and a 2019-edition registration", async () => {
    const a = await Terminal.open(server, '12076463279');
    a.write(Buffer.from(TRACCAR_LOCATION, 'hex'));
    expect(await a.ackOf(0x40, 'location answer')).toEqual({ answered: MSG.location, result: 0 });
    a.close();
    const b = await Terminal.open(server, '866496077582164');
    b.write(Buffer.from(TRACCAR_REGISTRATION_2019, 'hex'));
    const answer = await waitFor(() => b.answers.find((m) => m.header.messageId === MSG.registerAck), '2019 registration answer');
    // Answered in the 2019 header, to the same 10-byte phone field.
    expect(answer.header).toMatchObject({ version: 1, terminal: '866496077582164' });
    expect([answer.body.readUInt16BE(0), answer.body[2]]).toEqual([0x5218, 0]);
    b.close();
  });

  it('the jt808 simulator registers, authenticates and reports; its SOS key is a call alarm', async () => {
    const screen = await Screen.open(server);
    const sim = runJt808({
      server: { host: '127.0.0.1', port: server.jt808Port as number },
      phone: PHONE,
      home: HOME,
      walkMeters: 100,
      reportEveryMs: 50,
      print: () => undefined,
    });
    await waitFor(() => sim.answers.find((a) => a.answered === MSG.auth && a.result === 0), 'auth answer to the simulator');
    await waitFor(() => sim.answers.find((a) => a.answered === MSG.location && a.result === 0), 'location answer to the simulator');
    // The simulator stamps its reports with real time; when that is far from this test's fake
    // clock, the server takes the time of receipt, and an event's id is made from that time: a
    // minute on, so this SOS is not taken for an earlier test's resend.
    clock.advance(60_000);
    sim.alarm('sos');
    await screen.waitForAlarm((a) => a.type === 'call' && a.deviceId === PHONE && a.state === 'active', 'call alarm from the simulator');
    await sim.stop();
    screen.close();
    // Independent encoders agree: the simulator's location body reads the same as the server's.
    const at = Date.parse('2026-12-02T15:00:00Z');
    expect(jt808Location({ at, lat: -1.5, lon: 2.25, battery: 40, alarm: 1 })).toEqual(
      encodeLocation({ at, lat: -1.5, lon: 2.25, battery: 40, alarm: 1 }),
    );
  });

  it('leaving the home zone by day raises nothing; inside at night nothing; outside at night a wander alarm', async () => {
    const t = await Terminal.open(server);
    await expectWanderOnlyOutsideAtNight(server, clock, { deviceId: PHONE, residentId: site.residentId }, async (at, p, answered) => {
      const serial = t.send(MSG.location, encodeLocation({ at, ...p }));
      if (answered) await t.ackOf(serial);
    });
    t.close();
  });
});

describe('JT/T 808 connection limits', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(undefined, {
      env: { CARE_JT808_PORT: '0', CARE_WATCH_PORT: 'off', CARE_WATCH_IDLE_SECONDS: '1', CARE_WATCH_MAX_CONNECTIONS: '2' },
    });
    await registerSite(server, [{ id: PHONE, kind: 'gps_watch' }]);
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
  });

  it('a silent connection and a silent terminal are closed; connections in all are bounded (the watch listener off)', async () => {
    expect(server.watchPort).toBeNull();
    await expectSilentClosedAndTotalBounded(
      server,
      'jt808',
      () => Terminal.open(server),
      async (t) => {
        await t.ackOf(t.send(MSG.heartbeat));
      },
    );
  });

  it('a terminal flooding frames is held to its rate: the excess is dropped and counted', async () => {
    const t = await Terminal.open(server);
    const frames: Buffer[] = [];
    for (let i = 1; i <= 60; i += 1) frames.push(jt808Frame(MSG.heartbeat, PHONE, i, Buffer.alloc(0)));
    await expectFloodHeldToRate(
      server,
      'jt808',
      () => t.write(Buffer.concat(frames)),
      () => t.answers.filter((a) => a.header.messageId === MSG.platformAck).length,
    );
    t.close();
  });
});

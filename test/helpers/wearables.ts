// What the GPS wearable e2e tests (test/e2e/watch.test.ts for the watch protocol, jt808.test.ts for
// JT/T 808) share, each protocol's frames apart: a device on a real TCP socket, the listener's
// counters read from /metrics, a resident with a home zone, and the checks both protocols must pass
// the same way (position stored as telemetry, wander only outside the zone at night, limits).
import net from 'node:net';
import { expect } from 'vitest';
import type { FakeClock } from './fake-clock.ts';
import { type DemoSite, registerSite, Screen, type TestServer, waitFor } from './harness.ts';

// 23:00 in Shanghai on 2 December 2026: inside the default night window (22:00-06:00).
export const NIGHT = Date.parse('2026-12-02T15:00:00Z');
export const HOME = { lat: 29.56301, lon: 106.551557 };

/** A device's real TCP connection to a listener; a subclass reads what the server answers. */
export abstract class DeviceSocket {
  readonly socket: net.Socket;
  closed = false;
  readonly ready: Promise<void>;
  constructor(port: number) {
    this.socket = net.connect(port, '127.0.0.1');
    this.socket.setNoDelay(true);
    this.socket.on('data', (d: Buffer) => this.onData(d));
    this.socket.on('close', () => {
      this.closed = true;
    });
    this.socket.on('error', () => undefined);
    this.ready = new Promise((resolve) => this.socket.once('connect', () => resolve()));
  }
  protected abstract onData(d: Buffer): void;
  write(bytes: string | Buffer) {
    this.socket.write(bytes);
  }
  close() {
    this.socket.destroy();
  }
}

/** A counter or gauge from the server's /metrics (0 when the series is not there yet). */
export async function metric(server: TestServer, name: string, labels: string): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  return line ? Number(line.split(' ').pop()) : 0;
}

/** Registers a site with these devices for one resident, whose home zone is 300 m around HOME. */
export async function registerWearerSite(server: TestServer, devices: Array<{ id: string; kind: string }>): Promise<DemoSite> {
  const site = await registerSite(server, devices);
  const put = await server.api('PUT', `/api/v1/residents/${site.residentId}/settings`, {
    homeZone: { lat: HOME.lat, lon: HOME.lon, radiusMeters: 300 },
  });
  expect(put.status).toBe(200);
  return site;
}

/** Exactly one active alarm of this type from this device (a resent report is not a second one). */
export async function expectOneActiveAlarm(server: TestServer, type: string, deviceId: string): Promise<void> {
  const { body } = await server.api<{ alarms: Array<{ type: string; deviceId: string; count: number }> }>(
    'GET',
    '/api/v1/alarms?state=active',
  );
  expect(body.alarms.filter((a) => a.type === type && a.deviceId === deviceId)).toEqual([expect.objectContaining({ count: 1 })]);
}

/** Waits until HOME's latitude is among the resident's telemetry around NIGHT. */
export async function waitForHomeLatitude(server: TestServer, residentId: string): Promise<void> {
  await waitFor(
    async () => {
      const r = await server.api(
        'GET',
        `/api/v1/residents/${residentId}/telemetry?metric=latitude&from=${new Date(NIGHT - 3600_000).toISOString()}&to=${new Date(NIGHT + 3600_000).toISOString()}`,
      );
      return r.status === 200 && JSON.stringify(r.body).includes('29.56301');
    },
    'latitude stored',
    25_000,
  ); // the telemetry worker writes in batches; slow on a busy machine
}

/**
 * Leaving the home zone by day raises nothing, inside at night nothing, outside at night a wander
 * alarm. `report` sends a position taken at `at`; with `answered` it waits until the server has
 * handled it. The clock starts at 23:00 in Shanghai and ends a day later.
 */
export async function expectWanderOnlyOutsideAtNight(
  server: TestServer,
  clock: FakeClock,
  who: { deviceId: string; residentId: string },
  report: (at: number, p: { lat: number; lon: number }, answered: boolean) => Promise<void>,
): Promise<void> {
  const screen = await Screen.open(server);
  const away = { lat: HOME.lat + 0.02, lon: HOME.lon }; // about 2.2 km north
  clock.advance(12 * 3600_000); // 11:00 in Shanghai
  await report(clock.now(), away, true);
  clock.advance(12 * 3600_000); // 23:00 again
  await report(clock.now(), { lat: HOME.lat + 0.001, lon: HOME.lon }, true); // about 110 m: inside the 300 m zone
  expect(screen.alarmMessages().filter((a) => a.type === 'wander')).toEqual([]);
  await report(clock.now() + 60_000, away, false);
  const alarm = await screen.waitForAlarm((a) => a.type === 'wander' && a.deviceId === who.deviceId, 'wander alarm');
  expect(alarm).toMatchObject({ priority: 'high', residentId: who.residentId });
  screen.close();
}

/**
 * With idle 1 s and 2 connections at most: a silent connection is closed for its login timeout, a
 * bound one for idling, a third refused. `open` connects; `bind` makes a connection name its device.
 */
export async function expectSilentClosedAndTotalBounded<D extends DeviceSocket>(
  server: TestServer,
  protocol: 'watch' | 'jt808',
  open: () => Promise<D>,
  bind: (d: D) => Promise<void>,
): Promise<void> {
  const silent = await open();
  const known = await open();
  await bind(known);
  const third = await open();
  await waitFor(() => third.closed, 'third connection refused');
  await waitFor(() => silent.closed && known.closed, 'idle connections closed', 15_000);
  const refused = `care_${protocol}_refused_total`;
  expect(await metric(server, refused, 'reason="total"')).toBe(1);
  expect(await metric(server, refused, 'reason="login_timeout"')).toBe(1);
  expect(await metric(server, refused, 'reason="idle"')).toBe(1);
}

/** Three reads of junk, each refused: the connection is closed for garbage. */
export async function expectGarbageOnlyClosed(d: DeviceSocket): Promise<void> {
  for (let i = 0; i < 3; i += 1) {
    d.write(`junk ${i} `);
    await new Promise((r) => setTimeout(r, 20)); // separate reads, each refused
  }
  await waitFor(() => d.closed, 'garbage-only connection closed');
}

/**
 * A device flooding 60 frames in one write is held to its rate: every frame is answered or dropped
 * and counted, and 30 to 44 are answered (the burst of 30, and what 2/s adds meanwhile).
 */
export async function expectFloodHeldToRate(
  server: TestServer,
  protocol: 'watch' | 'jt808',
  flood: () => void,
  answered: () => number,
): Promise<void> {
  const limited = () => metric(server, `care_${protocol}_frames_total`, 'outcome="rate_limited"');
  const before = await limited();
  flood();
  await waitFor(async () => answered() + (await limited()) - before === 60, 'all 60 frames handled');
  expect(answered()).toBeGreaterThanOrEqual(30);
  expect(answered()).toBeLessThan(45);
}

// The dashboard's service worker in Chromium at phone size: the alarm the server pushes (to a push
// service run by this test, whose payload the test decrypts with the subscription's keys) is
// dispatched to /sw.js as a PushEvent; the notification it shows has the actions 我去处理 and
// 无法处理; 我去处理 (a NotificationEvent dispatched in the worker) POSTs the response link's
// accept, and the alarm is acknowledged in the user's name; a click on the notification opens
// /r/{token}. Chromium cannot reach a real push service here, so the push itself is dispatched in
// the worker rather than delivered by the browser's push service; and as Chromium lets only a real
// click open a window, `clients.openWindow` is watched (and still called) to see which page opens.
import { createECDH, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import ece from 'http_ece';
import type { MqttClient } from 'mqtt';
import type { Browser, BrowserContext, Worker } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Alarm, gatewayTopic } from '../../protocol/index.ts';
import { launchChromium } from '../helpers/browser.ts';
import { ADMIN_AT_SECOND_LEVEL, siteWithEscalation } from '../helpers/escalation.ts';
import { FakeClock } from '../helpers/fake-clock.ts';
import { type DemoSite, startTestServer, type TestServer, waitFor } from '../helpers/harness.ts';

interface Payload {
  type: string;
  alarmId: string;
  title: string;
  body: string;
  url: string;
  token: string;
}

/** What the tests use of a service worker's global scope (the project's TypeScript lib is DOM, not WebWorker). */
interface SwNotification {
  title: string;
  body: string;
  tag: string;
  actions: Array<{ action: string; title: string }>;
}
interface SwScope {
  registration: { getNotifications(filter?: { tag?: string }): Promise<SwNotification[]> };
  clients: { openWindow(url: string): Promise<unknown> };
  location: Location;
  addEventListener(type: 'unhandledrejection', listener: (e: { reason: unknown }) => void): void;
  dispatchEvent(e: Event): boolean;
}
declare const PushEvent: new (type: 'push', init: { data: string }) => Event;
declare const NotificationEvent: new (type: 'notificationclick', init: { notification: SwNotification; action?: string }) => Event;

const clock = new FakeClock(Date.now());
let server: TestServer;
let site: DemoSite;
let gw: MqttClient;
let browser: Browser;
let context: BrowserContext;
let pushService: http.Server;
const pushed: Buffer[] = [];
const ecdh = createECDH('prime256v1');
ecdh.generateKeys();
const auth = randomBytes(16);
let seq = 0;

async function raise(type: 'call' | 'fall', device: string): Promise<Alarm> {
  seq += 1;
  const id = `evt-${seq}-${Math.random().toString(36).slice(2)}`;
  await gw.publishAsync(
    gatewayTopic(site.siteId, site.gatewayId, 'events'),
    JSON.stringify({ v: 1, id, seq, ts: clock.iso(), device, type }),
    {
      qos: 1,
    },
  );
  return waitFor(
    async () => (await server.api<{ alarms: Alarm[] }>('GET', '/api/v1/alarms?state=active')).body.alarms.find((a) => a.type === type),
    `${type} alarm`,
  );
}

/** Escalates an alarm to the user contact and returns the push payload, decrypted as the phone would. */
async function pushFor(type: 'call' | 'fall', device: string): Promise<{ alarm: Alarm; payload: Payload }> {
  const before = pushed.length;
  const alarm = await raise(type, device);
  clock.advance(60_000);
  await server.tick();
  const body = await waitFor(() => pushed[before], 'the push');
  const payload = JSON.parse(ece.decrypt(body, { version: 'aes128gcm', privateKey: ecdh, authSecret: auth }).toString('utf8')) as Payload;
  expect(payload.alarmId).toBe(alarm.id);
  return { alarm, payload };
}

/** Records the URLs the worker asks to open (the real openWindow is still called; it refuses a synthetic click). */
async function watchOpenWindow(worker: Worker) {
  await worker.evaluate(() => {
    const sw = self as unknown as SwScope & { opened?: string[] };
    if (sw.opened) return;
    const opened: string[] = [];
    sw.opened = opened;
    const real = sw.clients.openWindow.bind(sw.clients);
    Object.defineProperty(sw.clients, 'openWindow', {
      value: (url: string) => {
        opened.push(new URL(url, sw.location.href).href);
        return real(url).catch(() => null);
      },
    });
  });
}
const openedBy = (worker: Worker) => worker.evaluate(() => (self as unknown as { opened: string[] }).opened.slice());

async function serviceWorker(): Promise<Worker> {
  const page = await context.newPage();
  await page.goto(server.url);
  const existing = context.serviceWorkers()[0];
  if (existing) return existing;
  const [worker] = await Promise.all([
    context.waitForEvent('serviceworker'),
    page.evaluate(() => navigator.serviceWorker.register('/sw.js', { scope: '/' })),
  ]);
  await page.evaluate(() => navigator.serviceWorker.ready.then(() => undefined));
  return worker;
}

beforeAll(async () => {
  pushService = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      pushed.push(Buffer.concat(chunks));
      res.writeHead(201).end();
    });
  });
  await new Promise<void>((r) => pushService.listen(0, '127.0.0.1', () => r()));
  server = await startTestServer(undefined, { clock, env: { CARE_PUSH_ALLOW_HTTP: 'on' } });
  ({ site, gw } = await siteWithEscalation(server, ADMIN_AT_SECOND_LEVEL));
  const sub = await server.api('POST', '/api/v1/push/subscriptions', {
    endpoint: `http://127.0.0.1:${(pushService.address() as AddressInfo).port}/push/phone`,
    keys: { p256dh: ecdh.getPublicKey().toString('base64url'), auth: auth.toString('base64url') },
  });
  expect(sub.status).toBe(201);
  browser = await launchChromium();
  context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, locale: 'zh-CN' });
  await context.grantPermissions(['notifications'], { origin: server.url });
});
afterAll(async () => {
  await context?.close().catch(() => undefined);
  await browser?.close();
  await gw?.endAsync();
  await server?.stop();
  pushService?.close();
});

describe('the service worker on a phone', () => {
  it('serves the manifest and the worker at the root scope', async () => {
    const manifest = await fetch(`${server.url}/manifest.webmanifest`);
    expect(manifest.status).toBe(200);
    const m = (await manifest.json()) as { start_url: string; icons: Array<{ sizes: string }> };
    expect(m.start_url).toBe('/');
    expect(m.icons.map((i) => i.sizes)).toEqual(['192x192', '512x512']);
    const sw = await fetch(`${server.url}/sw.js`);
    expect(sw.status).toBe(200);
    expect(sw.headers.get('content-type')).toMatch(/javascript/);
    await sw.arrayBuffer();
  });

  it("shows the pushed alarm with 我去处理 / 无法处理, and 我去处理 acknowledges it in the user's name", async () => {
    const { alarm, payload } = await pushFor('call', 'btn-203');
    const worker = await serviceWorker();
    const shown = await worker.evaluate(async (data) => {
      const sw = self as unknown as SwScope;
      const errors: string[] = [];
      sw.addEventListener('unhandledrejection', (e) => errors.push(String(e.reason)));
      sw.dispatchEvent(new PushEvent('push', { data: JSON.stringify(data) }));
      // Up to 15 s: in the full suite's one busy process, 5 s once passed with nothing shown yet.
      for (let i = 0; i < 300; i += 1) {
        const ns = await sw.registration.getNotifications();
        if (ns.length > 0)
          return ns.map((n) => ({ title: n.title, body: n.body, tag: n.tag, actions: n.actions.map((a) => [a.action, a.title]) }));
        await new Promise((r) => setTimeout(r, 50));
      }
      // Nothing shown: the worker's errors, so a failure says why.
      return errors.map((e) => ({ title: `error: ${e}`, body: '', tag: '', actions: [] as string[][] }));
    }, payload);
    expect(shown).toEqual([
      {
        title: payload.title,
        body: payload.body,
        tag: `alarm-${alarm.id}`,
        actions: [
          ['accept', '我去处理'],
          ['decline', '无法处理'],
        ],
      },
    ]);
    expect(shown[0]?.title).toContain('紧急呼叫');

    await watchOpenWindow(worker);
    await worker.evaluate(async (tag) => {
      const sw = self as unknown as SwScope;
      const n = (await sw.registration.getNotifications({ tag }))[0];
      if (!n) throw new Error('no notification');
      sw.dispatchEvent(new NotificationEvent('notificationclick', { notification: n, action: 'accept' }));
    }, `alarm-${alarm.id}`);
    const acked = await waitFor(
      async () =>
        (await server.api<{ alarms: Alarm[] }>('GET', '/api/v1/alarms')).body.alarms.find(
          (a) => a.id === alarm.id && a.state === 'acknowledged',
        ),
      'acknowledged through the notification',
    );
    expect(acked.ackBy).toBeTruthy();
    // After accepting, the response page (where to go) opens.
    expect(
      await waitFor(async () => (await openedBy(worker)).find((u) => u.endsWith(`/r/${payload.token}`)), 'the page opened'),
    ).toBeTruthy();
    await server.api('POST', `/api/v1/alarms/${alarm.id}/resolve`, { note: 'done' });
  });

  it('a click on the notification itself opens the response page', async () => {
    const { alarm, payload } = await pushFor('fall', 'radar-203');
    const worker = await serviceWorker();
    await watchOpenWindow(worker);
    const before = (await openedBy(worker)).length;
    await worker.evaluate(async (data) => {
      const sw = self as unknown as SwScope;
      sw.dispatchEvent(new PushEvent('push', { data: JSON.stringify(data) }));
      for (let i = 0; i < 100; i += 1) {
        const n = (await sw.registration.getNotifications({ tag: `alarm-${data.alarmId}` }))[0];
        if (n) {
          sw.dispatchEvent(new NotificationEvent('notificationclick', { notification: n }));
          return;
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error('no notification');
    }, payload);
    const url = await waitFor(async () => (await openedBy(worker))[before], 'the page opened');
    expect(url).toBe(payload.url);
    // That page is the response page for this alarm.
    const page = await context.newPage();
    await page.goto(`${server.url}/r/${payload.token}`);
    expect(await page.content()).toContain('我去处理');
    // Only a click: the alarm is still waiting for someone to accept.
    const still = (await server.api<{ alarms: Alarm[] }>('GET', '/api/v1/alarms')).body.alarms.find((a) => a.id === alarm.id);
    expect(still?.state).toBe('active');
  });
});

// The outdoors panel in Debian's Chromium at phone size (zh-CN), against a real server fed by a real
// watch over TCP: the last position outside the home zone shows as outside with its distance; an
// administrator moves the zone onto the last position and it shows as inside.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { positionContent, watchFrame } from '../../simulators/watch.ts';
import { launchChromium, signIn as signInAt } from '../helpers/browser.ts';
import { type DemoSite, registerSite, startTestServer, type TestServer, waitFor } from '../helpers/harness.ts';

const ARTIFACTS = path.resolve(import.meta.dirname, '../../test-artifacts');
const IMEI = '868120301234567';
const HOME = { lat: 29.56301, lon: 106.551557 };
const AWAY = { lat: 29.57301, lon: 106.551557 }; // about 1.1 km north

let server: TestServer;
let site: DemoSite;
let browser: Browser;

beforeAll(async () => {
  server = await startTestServer();
  site = await registerSite(server, [{ id: IMEI, kind: 'gps_watch' }]);
  await server.api('PUT', `/api/v1/residents/${site.residentId}/settings`, { homeZone: { ...HOME, radiusMeters: 300 } });
  // A real watch reports one position away from home.
  const socket = net.connect(server.watchPort as number, '127.0.0.1');
  await new Promise<void>((r) => socket.once('connect', () => r()));
  socket.write(watchFrame(IMEI, positionContent('UD', new Date(), { ...AWAY, battery: 70 })));
  await waitFor(
    async () => {
      const from = new Date(Date.now() - 3600_000).toISOString();
      const to = new Date(Date.now() + 3600_000).toISOString();
      const r = await server.api<{ points: unknown[] }>(
        'GET',
        `/api/v1/residents/${site.residentId}/telemetry?metric=longitude&from=${from}&to=${to}`,
      );
      return r.body.points.length > 0;
    },
    'position stored',
    25_000,
  );
  socket.destroy();
  browser = await launchChromium();
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

describe('outdoors panel (browser)', () => {
  it('shows the watch outside its home zone, and inside once an administrator moves the zone there', async () => {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
    const page = await context.newPage();
    await signInAt(page, server.url, { liveWithinMs: 10_000 });
    await page.goto(`${server.url}/#/resident/${encodeURIComponent(site.residentId)}`);
    const panel = page.locator('.watch-panel');
    await panel.getByText('已离开安全区域').waitFor({ timeout: 10_000 });
    expect(await panel.textContent()).toMatch(/距家 11\d\d 米/);
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'watch-panel-phone.png'), fullPage: true });
    await panel.getByRole('button', { name: '使用最新位置' }).click();
    await panel.getByRole('button', { name: '保存电子围栏' }).click();
    await panel.getByText('在安全区域内').waitFor({ timeout: 10_000 });
    const { body } = await server.api<{ settings: { homeZone: { lat: number } } }>('GET', `/api/v1/residents/${site.residentId}`);
    expect(body.settings.homeZone.lat).toBe(AWAY.lat);
    await context.close();
  });
});

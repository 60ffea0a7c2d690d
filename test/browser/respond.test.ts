// Accepting an alarm from a phone (DESIGN.md 3.9), in Debian's Chromium at phone size against a
// real server: the link from a message opens the page in Chinese under the server's strict CSP,
// "我去处理" acknowledges the alarm in the contact's name, and a caregiver's screen (the dashboard,
// signed in on a desktop) shows who accepted. Saves docs/screenshots/respond.png when asked
// (UPDATE_SCREENSHOTS=1).
import fs from 'node:fs';
import path from 'node:path';
import { sql } from 'kysely';
import type { MqttClient } from 'mqtt';
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Alarm, gatewayTopic } from '../../protocol/index.ts';
import { createResponseTokens } from '../../server/respond/tokens.ts';
import { type OpenedDatabase, openDatabase } from '../../server/storage/db.ts';
import { launchChromium, signIn as signInAt } from '../helpers/browser.ts';
import { connectAsGateway, type DemoSite, registerSite, Screen, startTestServer, type TestServer, waitFor } from '../helpers/harness.ts';

const ARTIFACTS = path.resolve(import.meta.dirname, '../../test-artifacts');
const SCREENSHOTS = path.resolve(import.meta.dirname, '../../docs/screenshots');
const APPEAR_MS = 10_000;

let server: TestServer;
let site: DemoSite;
let gw: MqttClient;
let side: OpenedDatabase;
let browser: Browser;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  server = await startTestServer();
  site = await registerSite(server, [{ id: 'radar-home', kind: 'fall_detector' }]);
  side = await openDatabase(server.dataDir);
  // A family care bed with its address and map position (set by the areas pages in practice).
  await sql`UPDATE sites SET name = ${'幸福里家庭养老床位'}, kind = 'family_bed', address = ${'重庆市渝中区幸福里 3 号 2 单元 501'}, lat = 29.5630, lon = 106.5516 WHERE id = ${site.siteId}`.execute(
    side.db,
  );
  gw = await connectAsGateway(server, site);
  browser = await launchChromium();
});
afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => {});
  await browser?.close();
  await gw?.endAsync();
  await server?.stop();
  await side?.close();
});

describe('the response page on a phone', () => {
  it('opens the link, accepts, and the caregiver screen shows who accepted', async () => {
    await gw.publishAsync(
      gatewayTopic(site.siteId, site.gatewayId, 'events'),
      JSON.stringify({ v: 1, id: 'fall-home-1', seq: 1, ts: new Date().toISOString(), device: 'radar-home', type: 'fall' }),
      { qos: 1 },
    );
    const alarm = await waitFor(
      async () => (await server.api<{ alarms: Alarm[] }>('GET', '/api/v1/alarms?state=active')).body.alarms.find((a) => a.type === 'fall'),
      'fall alarm',
    );
    // The links two family members got in their messages; the son cannot go.
    const tokens = createResponseTokens(side.db, { publicUrl: server.url, now: () => new Date().toISOString() });
    const daughter = await tokens.issue({ alarmId: alarm.id, level: 1, contact: { kind: 'sms', target: '+8613800000011', name: '王丽' } });
    const son = await tokens.issue({ alarmId: alarm.id, level: 1, contact: { kind: 'sms', target: '+8613800000012', name: '王强' } });
    expect((await server.api('POST', `/api/v1/respond/${son.token}`, { action: 'decline' }, '')).status).toBe(200);

    // The caregiver's screen: the dashboard on a desktop, and the live feed.
    const feed = await Screen.open(server);
    const desk = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
    contexts.push(desk);
    const board = await desk.newPage();
    await signInAt(board, server.url);
    const card = board.locator('[data-testid=alarm-card][data-type=fall]');
    await card.waitFor({ timeout: APPEAR_MS });

    // The phone.
    const phone = await browser.newContext({
      viewport: { width: 390, height: 844 },
      deviceScaleFactor: 2,
      isMobile: true,
      hasTouch: true,
      locale: 'zh-CN',
      timezoneId: 'Asia/Shanghai',
    });
    contexts.push(phone);
    const page = await phone.newPage();
    const problems: string[] = [];
    page.on('console', (m) => {
      // A failed request is reported with its address below.
      if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(e.message));
    page.on('response', (r) => {
      if (r.status() >= 400) problems.push(`${r.status()} ${new URL(r.url()).pathname}`);
    });
    const res = await page.goto(daughter.url);
    expect(res?.status()).toBe(200);
    expect(res?.headers()['content-security-policy']).toContain("script-src 'self'");
    await expect(page.locator('#what').textContent()).resolves.toContain('跌倒');
    await expect(page.locator('#where').textContent()).resolves.toContain('幸福里 3 号');
    expect(await page.locator('#map').getAttribute('href')).toContain('uri.amap.com/marker?position=106.5516,29.563');
    await expect(page.locator('#others').textContent()).resolves.toContain('王强: 无法处理');

    await page.getByRole('button', { name: '我去处理' }).tap();
    await page.getByRole('button', { name: '已到场' }).waitFor({ timeout: APPEAR_MS });
    await expect(page.locator('#status').textContent()).resolves.toContain('王丽 已于');
    await expect(page.locator('#you').textContent()).resolves.toContain('您已接警');

    // Who accepted, on the caregiver's screen and in the live feed.
    await feed.waitForAlarm((a) => a.id === alarm.id && a.state === 'acknowledged' && a.ackBy === '王丽', 'feed shows the acceptor');
    await waitFor(async () => (await card.textContent())?.includes('王丽'), 'the board card names the acceptor');
    feed.close();

    fs.mkdirSync(ARTIFACTS, { recursive: true });
    const file = path.join(ARTIFACTS, 'respond-phone.png');
    await page.screenshot({ path: file, fullPage: true, animations: 'disabled' });
    if (process.env.UPDATE_SCREENSHOTS === '1') {
      fs.mkdirSync(SCREENSHOTS, { recursive: true });
      fs.copyFileSync(file, path.join(SCREENSHOTS, 'respond.png'));
    }

    // On site, then done with an outcome: the page says so and the link is spent.
    await page.getByRole('button', { name: '已到场' }).tap();
    await page.locator('#outcome').waitFor({ timeout: APPEAR_MS });
    await page.locator('#outcome').selectOption('assisted');
    await page.getByRole('button', { name: '处理完成' }).tap();
    await waitFor(async () => (await page.locator('#message').textContent())?.includes('报警已处理完成'), 'done message');
    const closed = (await server.api<{ alarm: Alarm }>('GET', `/api/v1/alarms/${alarm.id}`)).body.alarm;
    expect(closed).toMatchObject({ state: 'resolved', resolvedBy: '王丽', onSiteBy: '王丽', outcome: 'assisted' });
    // No script error, no CSP violation on the way.
    expect(problems).toEqual([]);
    expect((await page.goto(daughter.url))?.status()).toBe(404);
  }, 120_000);
});

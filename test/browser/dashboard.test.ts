// Issue "The caregivers' live alert screen", driven in Debian's Chromium against a real server and
// gateway: sign in, a new alarm appears, acknowledging it shows on a second screen, a dropped
// connection shows the reconnect banner and, once back, the screen catches up with what it missed.
// Saves 1920x1080 zh-CN screenshots of the board, overview and a resident page.
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningGateway } from '../../gateway/gateway.ts';
import type { Alarm } from '../../protocol/index.ts';
import { launchChromium, signIn as signInAt } from '../helpers/browser.ts';
import {
  ADMIN_PASSWORD,
  type DemoSite,
  registerSite,
  startTestGateway,
  startTestServer,
  type TestServer,
  waitFor,
} from '../helpers/harness.ts';

const ARTIFACTS = path.resolve(import.meta.dirname, '../../test-artifacts');
const SCREENSHOTS = path.resolve(import.meta.dirname, '../../docs/screenshots');
const APPEAR_MS = 5000;

let server: TestServer;
let site: DemoSite;
let gateway: RunningGateway;
let browser: Browser;
const contexts: BrowserContext[] = [];

async function newScreen(): Promise<{ context: BrowserContext; page: Page; wsUrls: string[]; wsClosed: () => number }> {
  const context = await browser.newContext({ viewport: { width: 1920, height: 1080 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
  contexts.push(context);
  const page = await context.newPage();
  const wsUrls: string[] = [];
  let closed = 0;
  page.on('websocket', (ws) => {
    wsUrls.push(ws.url());
    ws.on('close', () => {
      closed += 1;
    });
  });
  return { context, page, wsUrls, wsClosed: () => closed };
}

async function signIn(page: Page, username = 'admin', password = ADMIN_PASSWORD) {
  await signInAt(page, server.url, { username, password, liveWithinMs: APPEAR_MS });
}

const card = (page: Page, type: string) => page.locator(`[data-testid=alarm-card][data-type=${type}]`);

async function screenshot(page: Page, name: string) {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, `dashboard-${name}.png`);
  await page.screenshot({ path: file, animations: 'disabled' });
  // The README's pictures change only when asked: UPDATE_SCREENSHOTS=1 npm test.
  if (process.env.UPDATE_SCREENSHOTS === '1') {
    fs.mkdirSync(SCREENSHOTS, { recursive: true });
    fs.copyFileSync(file, path.join(SCREENSHOTS, `${name}.png`));
  }
}

beforeAll(async () => {
  server = await startTestServer();
  site = await registerSite(server, [
    { id: 'btn-203', kind: 'call_button' },
    { id: 'radar-203', kind: 'fall_detector' },
    { id: 'bed-203', kind: 'bed_sensor' },
    { id: 'band-203', kind: 'vitals_monitor' },
  ]);
  // Neighbours so the overview looks like a floor, not a single room.
  for (const [room, name] of [
    ['201', '李建国'],
    ['202', '张桂兰'],
    ['204', '刘淑珍'],
  ] as const) {
    const r = await server.api<{ id: string }>('POST', '/api/v1/residents', { siteId: site.siteId, name, room, bed: 'A' });
    await server.api('POST', '/api/v1/devices', {
      id: `btn-${room}`,
      gatewayId: site.gatewayId,
      kind: 'call_button',
      residentId: r.body.id,
    });
  }
  gateway = await startTestGateway(server, site);
  browser = await launchChromium();
});

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => {});
  await browser?.close();
  await gateway?.stop();
  await server?.stop();
});

describe("the caregivers' live alert screen", () => {
  let a: Awaited<ReturnType<typeof newScreen>>;
  let b: Awaited<ReturnType<typeof newScreen>>;

  it('signs in (Chinese by default) and shows the live indicator', async () => {
    a = await newScreen();
    b = await newScreen();
    await signIn(a.page);
    await signIn(b.page);
    await expect(a.page.locator('[data-testid=connection]').textContent()).resolves.toContain('实时');
    expect(await a.page.evaluate(() => sessionStorage.getItem('care.session'))).toContain('token');
    await expect(a.page.locator('[data-testid=board-summary]').textContent()).resolves.toContain('待接警 0');
  }, 30_000);

  it('sound is off until a click enables it, and the alarm test plays on demand', async () => {
    const toggle = b.page.locator('[data-testid=sound-toggle]');
    expect(await toggle.getAttribute('data-enabled')).toBe('false');
    expect(await toggle.textContent()).toContain('开启报警声音');
    await toggle.click();
    await b.page.locator('[data-testid=sound-toggle][data-enabled=true]').waitFor({ timeout: APPEAR_MS });
    await b.page.locator('[data-testid=sound-test]').click();
    await b.page.locator('[data-testid=sound-test]', { hasText: '测试中' }).waitFor({ timeout: APPEAR_MS });
  }, 30_000);

  it('a call from the gateway appears on the board within seconds, high priority first', async () => {
    gateway.sink.event({ device: 'btn-203', type: 'call' });
    const call = card(a.page, 'call');
    await call.waitFor({ timeout: APPEAR_MS });
    const text = await call.textContent();
    expect(text).toContain('紧急呼叫');
    expect(text).toContain('王秀英');
    expect(text).toContain('203 房间');
    expect(await call.getAttribute('data-state')).toBe('active');
    expect(await call.getAttribute('class')).toContain('prio-high');

    // More alarms for a realistic board: a low-priority tamper, a repeat (×2), and a call from an
    // unknown device, which must still raise an alarm flagged as unregistered.
    gateway.sink.event({ device: 'bed-203', type: 'tamper' });
    gateway.sink.event({ device: 'btn-202', type: 'call' });
    gateway.sink.event({ device: 'btn-202', type: 'call' });
    gateway.sink.event({ device: 'btn-999', type: 'call' });
    await waitFor(async () => (await a.page.locator('[data-testid=alarm-card]').count()) === 4, 'four alarms on the board', APPEAR_MS);
    await a.page.locator('.tag-unregistered').waitFor({ timeout: APPEAR_MS });
    await a.page.locator('.card-count', { hasText: '×2' }).waitFor({ timeout: APPEAR_MS });
    // Board order: the three high-priority calls (oldest first), then the low tamper.
    const types = await a.page.locator('[data-testid=alarm-card]').evaluateAll((els) => els.map((e) => e.getAttribute('data-type')));
    expect(types).toEqual(['call', 'call', 'call', 'tamper']);
    await screenshot(a.page, 'board');
  }, 30_000);

  it('acknowledging with one click changes the state on a second open screen', async () => {
    const first = card(a.page, 'call').first();
    const id = await first.getAttribute('data-alarm-id');
    await first.locator('[data-testid=ack]').click();
    await b.page.locator(`[data-alarm-id="${id}"][data-state=acknowledged]`).waitFor({ timeout: APPEAR_MS });
    await a.page.locator(`[data-alarm-id="${id}"][data-state=acknowledged]`).waitFor({ timeout: APPEAR_MS });
    // Acknowledged alarms sink below active ones.
    const states = await a.page.locator('[data-testid=alarm-card]').evaluateAll((els) => els.map((e) => e.getAttribute('data-state')));
    expect(states.indexOf('acknowledged')).toBeGreaterThan(states.lastIndexOf('active'));
  }, 30_000);

  it('resolving takes two clicks (resolve, outcome) and the alarm leaves both boards', async () => {
    const tamper = card(a.page, 'tamper');
    const id = await tamper.getAttribute('data-alarm-id');
    await tamper.locator('[data-testid=resolve]').click();
    await tamper.locator('input.note').fill('螺丝已拧紧');
    await tamper.locator('[data-outcome=assisted]').click();
    await waitFor(async () => (await b.page.locator(`[data-alarm-id="${id}"]`).count()) === 0, 'tamper gone from screen B', APPEAR_MS);
    const got = await server.api<{ alarm: Alarm }>('GET', `/api/v1/alarms/${id}`);
    expect(got.body.alarm).toMatchObject({ state: 'resolved', outcome: 'assisted', note: '螺丝已拧紧' });
  }, 30_000);

  it('a dropped connection shows the reconnecting banner; once back, the screen catches up with since=', async () => {
    const banner = a.page.locator('[data-testid=reconnect-banner]');
    expect(await banner.count()).toBe(0);
    const closedBefore = a.wsClosed();
    await a.context.setOffline(true);
    await banner.waitFor({ timeout: APPEAR_MS });
    expect(await banner.textContent()).toContain('正在重新连接：报警可能延迟');
    await waitFor(() => a.wsClosed() > closedBefore, 'the WebSocket really closed', APPEAR_MS);

    // Raised while screen A is cut off: screen B sees it, A must not until it is back.
    gateway.sink.event({ device: 'radar-203', type: 'fall' });
    await card(b.page, 'fall').waitFor({ timeout: APPEAR_MS });
    expect(await card(a.page, 'fall').count()).toBe(0);
    expect(await banner.isVisible()).toBe(true);

    await a.context.setOffline(false);
    await card(a.page, 'fall').waitFor({ timeout: 10_000 });
    await a.page.locator('[data-testid=connection][data-state=live]').waitFor({ timeout: APPEAR_MS });
    expect(await banner.count()).toBe(0);
    expect(a.wsUrls.at(-1)).toMatch(/[?&]since=\d+/);
  }, 40_000);

  it('the site overview shows a tile per resident with device health and open alarms', async () => {
    // Readings and a status so tiles and charts have something to show.
    const now = Date.now();
    for (let i = 0; i < 48; i++) {
      const ts = new Date(now - (47 - i) * 30 * 60_000).toISOString();
      gateway.sink.reading({ device: 'band-203', metric: 'heart_rate', value: 68 + Math.round(8 * Math.sin(i / 5)), ts });
      gateway.sink.reading({ device: 'band-203', metric: 'spo2', value: 96 + (i % 3), ts });
      gateway.sink.reading({ device: 'band-203', metric: 'resp_rate', value: 15 + (i % 4), ts });
    }
    gateway.sink.seen('band-203', { battery: 64 });
    gateway.sink.seen('btn-201', { battery: 12 });
    await waitFor(async () => {
      const r = await server.api<{ points: unknown[] }>('GET', `/api/v1/residents/${site.residentId}/telemetry?metric=heart_rate`);
      return r.body.points.length >= 48;
    }, 'telemetry stored');

    await a.page.locator('a.nav-link[href="#/overview"]').click();
    const tiles = a.page.locator('[data-testid=resident-tile]');
    await waitFor(async () => (await tiles.count()) === 4, 'four resident tiles', APPEAR_MS);
    const tile203 = tiles.filter({ hasText: '王秀英' });
    await expect(tile203.textContent()).resolves.toContain('跌倒');
    await expect(tile203.locator('.dev-online').count()).resolves.toBeGreaterThan(0);
    await screenshot(a.page, 'overview');
  }, 30_000);

  it('the resident page charts vital signs and lists recent alarms with their history', async () => {
    await a.page.locator('[data-testid=resident-tile]', { hasText: '王秀英' }).click();
    await a.page.locator('.resident-name', { hasText: '王秀英' }).waitFor({ timeout: APPEAR_MS });
    await a.page.locator('.chart .uplot').first().waitFor({ timeout: APPEAR_MS });
    await expect(a.page.locator('.chart figcaption').allTextContents()).resolves.toContain('心率（次/分）');
    await a.page.locator('.alarm-row-head', { hasText: '紧急呼叫' }).first().click();
    await a.page.locator('.history li', { hasText: '接警' }).first().waitFor({ timeout: APPEAR_MS });
    await screenshot(a.page, 'resident');
    await a.page.locator('.btn-range', { hasText: '1 小时' }).click();
    await a.page.locator('.btn-range.current', { hasText: '1 小时' }).waitFor();
  }, 30_000);

  it('an administrator creates a gateway and sees its one-time secret', async () => {
    // The gateways page of the administration (#/admin/gateways), reached from the admin row.
    await a.page.locator('a.nav-link[href="#/admin"]').click();
    await a.page.locator('a[href="#/admin/gateways"]').first().click();
    const form = a.page.locator('[data-testid=gateway-form]');
    await form.locator('select[name=siteId]').selectOption(site.siteId, { timeout: APPEAR_MS });
    await form.locator('input[name=name]').fill('三楼网关');
    await form.locator('button[type=submit]').click();
    const secret = a.page.locator('[data-testid=gateway-secret] .secret-value');
    await secret.waitFor({ timeout: APPEAR_MS });
    expect((await secret.textContent())?.length).toBeGreaterThan(16);
  }, 30_000);

  it('switches to English and signs out, clearing the session', async () => {
    await a.page.locator('[data-testid=lang-switch]').click();
    await expect(a.page.locator('[data-testid=connection]').textContent()).resolves.toContain('Live');
    const stored = await a.page.evaluate(() => sessionStorage.getItem('care.session'));
    const token = (JSON.parse(stored ?? '{}') as { token?: string }).token as string;
    expect((await server.api('GET', '/api/v1/auth/me', undefined, token)).status).toBe(200);
    await a.page.locator('[data-testid=logout]').click();
    await a.page.locator('input[name=username]').waitFor();
    expect(await a.page.evaluate(() => sessionStorage.getItem('care.session'))).toBeNull();
    // The token is revoked on the server, not only forgotten by the page.
    await waitFor(async () => (await server.api('GET', '/api/v1/auth/me', undefined, token)).status === 401, 'token revoked');
  }, 30_000);

  it('a family member sees only their relative; they may accept (issue 15) but not snooze or resolve, and no admin controls', async () => {
    const created = await server.api('POST', '/api/v1/users', {
      username: 'family203',
      password: 'family-password-1',
      role: 'family',
      residentId: site.residentId,
    });
    expect(created.status).toBe(201);
    const f = await newScreen();
    await signIn(f.page, 'family203', 'family-password-1');
    await card(f.page, 'fall').waitFor({ timeout: APPEAR_MS });
    const residents = await f.page.locator('[data-testid=alarm-card] .card-who').allTextContents();
    expect(residents.every((r) => r.includes('王秀英'))).toBe(true);
    expect(await f.page.locator('[data-testid=snooze]').count()).toBe(0);
    expect(await f.page.locator('[data-testid=resolve]').count()).toBe(0);
    expect(await f.page.locator('a.nav-link[href="#/admin"]').count()).toBe(0);
  }, 30_000);
});

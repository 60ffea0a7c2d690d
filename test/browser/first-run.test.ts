// Issue 16 part 1, driven in Debian's Chromium against a real server (embedded broker, SQLite)
// with a raw MQTT client as the gateway: an administrator builds a site from nothing through the
// first-run setup (site, gateway and its one-time secret, a resident, a device) and the device's
// test alarm proves the chain; a family account made on the users page sees only its relative; a
// gateway's secret rotated on the gateways page leaves the old secret refused at the broker, and a
// revoked gateway is refused altogether. The pages are saved as screenshots (zh-CN, wall screen and
// phone) and checked at phone width.
import fs from 'node:fs';
import path from 'node:path';
import type { MqttClient } from 'mqtt';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Alarm, gatewayTopic } from '../../protocol/index.ts';
import { launchChromium, signIn as signInAt } from '../helpers/browser.ts';
import { ADMIN_PASSWORD, connectAsGateway, startTestServer, type TestServer, waitFor } from '../helpers/harness.ts';

const ARTIFACTS = path.resolve(import.meta.dirname, '../../test-artifacts');
const SCREENSHOTS = path.resolve(import.meta.dirname, '../../docs/screenshots');
const APPEAR_MS = 10_000;
const FAMILY_PASSWORD = 'family-password-0123';

let server: TestServer;
let browser: Browser;
const contexts: BrowserContext[] = [];
const clients: MqttClient[] = [];
/** What the setup made, read off the page. */
const built = { siteId: '', gatewayId: '', secret: '', residentId: '' };
let seq = 0;

async function newPage(viewport = { width: 1920, height: 1080 }): Promise<Page> {
  const context = await browser.newContext({ viewport, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
  contexts.push(context);
  return context.newPage();
}

async function signIn(page: Page, username = 'admin', password = ADMIN_PASSWORD) {
  await signInAt(page, server.url, { username, password, liveWithinMs: APPEAR_MS });
}

async function screenshot(page: Page, name: string) {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, `admin-${name}.png`);
  await page.screenshot({ path: file, animations: 'disabled', fullPage: true });
  // The README's pictures change only when asked: UPDATE_SCREENSHOTS=1.
  if (process.env.UPDATE_SCREENSHOTS === '1') {
    fs.mkdirSync(SCREENSHOTS, { recursive: true });
    fs.copyFileSync(file, path.join(SCREENSHOTS, `admin-${name}.png`));
  }
}

/** Connects as the gateway with `secret`: the broker's answer (connected, or the refusal's message). */
async function brokerAnswer(gatewayId: string, secret: string): Promise<'connected' | string> {
  try {
    const c = await connectAsGateway(server, { gatewayId, secret });
    clients.push(c);
    await c.endAsync();
    return 'connected';
  } catch (err) {
    return (err as Error).message;
  }
}

async function publish(client: MqttClient, device: string, type: string) {
  seq += 1;
  await client.publishAsync(
    gatewayTopic(built.siteId, built.gatewayId, 'events'),
    JSON.stringify({ v: 1, id: `first-run-${seq}-${Date.now()}`, seq, ts: new Date().toISOString(), device, type }),
    { qos: 1 },
  );
}

/** On a phone the page scrolls down only: nothing sticks out sideways. */
async function widerThanScreen(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const w = document.documentElement.clientWidth;
    return [...document.querySelectorAll('body *')]
      .filter((e) => e.getBoundingClientRect().right > w + 1)
      .map(
        (e) =>
          `${e.tagName.toLowerCase()}.${e.className} "${(e.textContent ?? '').slice(0, 40)}" ${Math.round(e.getBoundingClientRect().right)}>${w}`,
      )
      .slice(0, 5);
  });
}

beforeAll(async () => {
  server = await startTestServer();
  browser = await launchChromium();
});

afterAll(async () => {
  for (const c of clients) await c.endAsync(true).catch(() => {});
  for (const c of contexts) await c.close().catch(() => {});
  await browser?.close();
  await server?.stop();
});

describe('first run: a site from nothing to a test alarm, on the screen only', () => {
  let page: Page;

  it('a fresh install takes the administrator to the setup; the site and gateway are made there', async () => {
    page = await newPage();
    await signIn(page);
    await page.locator('[data-testid=setup-page]').waitFor({ timeout: APPEAR_MS });
    expect(page.url()).toContain('#/admin/setup');
    const siteForm = page.locator('[data-testid=setup-site]');
    await siteForm.locator('input[name=name]').waitFor({ timeout: APPEAR_MS });
    // A blank required name is refused on the page, with the field named.
    await siteForm.locator('button[type=submit]').click();
    await siteForm.locator('[data-testid=error-name]').waitFor({ timeout: APPEAR_MS });
    await siteForm.locator('input[name=name]').fill('阳光养老院');
    await siteForm.locator('select[name=kind]').selectOption('nursing_home');
    await siteForm.locator('input[name=timezone]').fill('Asia/Shanghai');
    await screenshot(page, 'setup-site');
    await siteForm.locator('button[type=submit]').click();

    const gwForm = page.locator('[data-testid=setup-gateway]');
    await gwForm.locator('input[name=name]').waitFor({ timeout: APPEAR_MS });
    await gwForm.locator('button[type=submit]').click();
    const secretBox = page.locator('[data-testid=gateway-secret]');
    await secretBox.waitFor({ timeout: APPEAR_MS });
    const settings = JSON.parse(await page.locator('[data-testid=gateway-json]').inputValue()) as Record<string, string>;
    built.siteId = settings.CARE_SITE_ID ?? '';
    built.gatewayId = settings.CARE_GATEWAY_ID ?? '';
    built.secret = settings.CARE_GATEWAY_SECRET ?? '';
    expect(built.secret).toBe((await page.locator('[data-testid=secret-value]').textContent())?.trim());
    expect(await page.locator('[data-testid=gateway-env]').inputValue()).toContain(`CARE_GATEWAY_SECRET=${built.secret}`);
    const sites = await server.api<{ sites: Array<{ id: string; name: string }> }>('GET', '/api/v1/sites');
    expect(sites.body.sites).toEqual([expect.objectContaining({ id: built.siteId, name: '阳光养老院' })]);
    await screenshot(page, 'setup-gateway');
    await page.locator('[data-testid=secret-done]').click();
    // Gone from the page once copied: nothing keeps it.
    expect(await page.content()).not.toContain(built.secret);
  }, 60_000);

  it('adds a resident and a call button, then the test alarm from the button passes and shows on the board', async () => {
    const resForm = page.locator('[data-testid=setup-resident]');
    await resForm.locator('input[name=name]').waitFor({ timeout: APPEAR_MS });
    await resForm.locator('input[name=name]').fill('王秀英');
    await resForm.locator('input[name=room]').fill('203');
    await resForm.locator('input[name=bed]').fill('A');
    await resForm.locator('button[type=submit]').click();
    await page.locator('[data-testid=setup-added]', { hasText: '王秀英' }).waitFor({ timeout: APPEAR_MS });
    await page.locator('[data-testid=setup-next]').click();

    const devForm = page.locator('[data-testid=setup-device]');
    await devForm.locator('input[name=id]').waitFor({ timeout: APPEAR_MS });
    await devForm.locator('input[name=id]').fill('btn-203');
    await devForm.locator('select[name=kind]').selectOption('call_button');
    await devForm.locator('select[name=residentId]').selectOption({ index: 1 });
    await devForm.locator('button[type=submit]').click();
    await page.locator('[data-testid=setup-added]', { hasText: 'btn-203' }).waitFor({ timeout: APPEAR_MS });
    const device = await server.api<{ residentId: string; room: string }>('GET', '/api/v1/devices/btn-203');
    expect(device.body.room).toBe('203');
    built.residentId = device.body.residentId;
    await page.locator('[data-testid=setup-next]').click();

    await page.locator('[data-testid=setup-start-test]').click();
    await page.locator('[data-testid=setup-test-waiting]').waitFor({ timeout: APPEAR_MS });
    await screenshot(page, 'setup-test');
    // The gateway, configured with what the page showed, and the button pressed.
    const gateway = await connectAsGateway(server, { gatewayId: built.gatewayId, secret: built.secret });
    clients.push(gateway);
    await publish(gateway, 'btn-203', 'call');
    await page.locator('[data-testid=setup-test-passed]').waitFor({ timeout: APPEAR_MS });
    await screenshot(page, 'setup-passed');

    await page.locator('[data-testid=setup-test-passed] a').click();
    const card = page.locator('[data-testid=alarm-card][data-type=call]');
    await card.waitFor({ timeout: APPEAR_MS });
    expect(await card.textContent()).toContain('测试');
    const alarms = (await server.api<{ alarms: Alarm[] }>('GET', '/api/v1/alarms')).body.alarms;
    expect(alarms).toEqual([expect.objectContaining({ deviceId: 'btn-203', test: true, residentId: built.residentId })]);
  }, 60_000);
});

describe('users: a family account sees only its relative', () => {
  it('is created on the users page, bound to one resident; signed in, it sees that resident only', async () => {
    // A neighbour with an alarm of her own, which the family account must not see.
    const other = await server.api<{ id: string }>('POST', '/api/v1/residents', { siteId: built.siteId, name: '张桂兰', room: '204' });
    await server.api('POST', '/api/v1/devices', {
      id: 'btn-204',
      gatewayId: built.gatewayId,
      kind: 'call_button',
      residentId: other.body.id,
    });
    const gateway = await connectAsGateway(server, { gatewayId: built.gatewayId, secret: built.secret });
    clients.push(gateway);
    await publish(gateway, 'btn-204', 'call');
    await publish(gateway, 'btn-203', 'call');
    const open = async () => (await server.api<{ alarms: Alarm[] }>('GET', '/api/v1/alarms?state=active')).body.alarms;
    await waitFor(async () => (await open()).some((a) => a.deviceId === 'btn-204'), "the neighbour's call").catch(async (err) => {
      throw new Error(`${(err as Error).message}: ${JSON.stringify(await open())}`);
    });
    await waitFor(async () => (await open()).some((a) => a.deviceId === 'btn-203' && !a.test), "the relative's own call").catch(
      async (err) => {
        throw new Error(`${(err as Error).message}: ${JSON.stringify(await open())}`);
      },
    );

    const page = await newPage();
    await signIn(page);
    await page.goto(`${server.url}/#/admin/users`);
    const form = page.locator('[data-testid=user-form]');
    await form.locator('input[name=username]').waitFor({ timeout: APPEAR_MS });
    await form.locator('input[name=username]').fill('wang.daughter');
    await form.locator('input[name=password]').fill(FAMILY_PASSWORD);
    await form.locator('select[name=role]').selectOption('family');
    await form.locator('input[name=displayName]').fill('王女士');
    // A family account without a resident is refused by the server, and the page says so.
    await form.locator('button[type=submit]').click();
    await form.locator('[data-testid=form-error]').waitFor({ timeout: APPEAR_MS });
    await form.locator('select[name=residentId]').selectOption(built.residentId);
    await form.locator('button[type=submit]').click();
    await page.locator('[data-testid=user-row][data-username="wang.daughter"]').waitFor({ timeout: APPEAR_MS });
    await screenshot(page, 'users');

    const family = await newPage({ width: 390, height: 844 });
    await signIn(family, 'wang.daughter', FAMILY_PASSWORD);
    const cards = family.locator('[data-testid=alarm-card]');
    await cards.first().waitFor({ timeout: APPEAR_MS });
    const text = (await cards.allTextContents()).join(' ');
    expect(text).toContain('王秀英');
    expect(text).not.toContain('张桂兰');
    const residents = await family.evaluate(async () => {
      const s = JSON.parse(sessionStorage.getItem('care.session') ?? '{}') as { token: string };
      const r = await fetch('/api/v1/residents', { headers: { authorization: `Bearer ${s.token}` } });
      return ((await r.json()) as { residents: Array<{ name: string }> }).residents.map((x) => x.name);
    });
    expect(residents).toEqual(['王秀英']);
    // No administration for a family account.
    expect(await family.locator('a[href="#/admin"]').count()).toBe(0);
  }, 60_000);
});

describe('gateways: rotate and revoke from the screen', () => {
  it('rotating asks first; the new secret is shown once and the old one is refused at the broker', async () => {
    expect(await brokerAnswer(built.gatewayId, built.secret)).toBe('connected');
    const page = await newPage();
    await signIn(page);
    await page.goto(`${server.url}/#/admin/gateways`);
    const row = page.locator(`[data-testid=gateway-row][data-id="${built.gatewayId}"]`);
    await row.waitFor({ timeout: APPEAR_MS });
    await screenshot(page, 'gateways');
    await row.locator('[data-testid=gateway-rotate]').click();
    const dialog = page.locator('[data-testid=confirm-dialog]');
    await dialog.waitFor({ timeout: APPEAR_MS });
    // Cancel changes nothing.
    await dialog.locator('[data-testid=confirm-cancel]').click();
    expect(await brokerAnswer(built.gatewayId, built.secret)).toBe('connected');
    await row.locator('[data-testid=gateway-rotate]').click();
    expect(await dialog.textContent()).toContain('旧密钥立即失效');
    await dialog.locator('[data-testid=confirm-ok]').click();
    const fresh = (await page.locator('[data-testid=secret-value]').textContent({ timeout: APPEAR_MS }))?.trim() ?? '';
    expect(fresh).not.toBe(built.secret);
    expect(fresh.length).toBeGreaterThan(20);
    expect(await brokerAnswer(built.gatewayId, built.secret)).not.toBe('connected');
    expect(await brokerAnswer(built.gatewayId, fresh)).toBe('connected');
    built.secret = fresh;
  }, 60_000);

  it('revoking asks first, says alarms will stop, and the gateway is refused with any secret', async () => {
    const page = await newPage();
    await signIn(page);
    await page.goto(`${server.url}/#/admin/gateways`);
    const row = page.locator(`[data-testid=gateway-row][data-id="${built.gatewayId}"]`);
    await row.locator('[data-testid=gateway-revoke]').click();
    const dialog = page.locator('[data-testid=confirm-dialog]');
    expect(await dialog.textContent()).toContain('报警都不会到达屏幕');
    await screenshot(page, 'gateway-revoke');
    await dialog.locator('[data-testid=confirm-ok]').click();
    await page.locator(`[data-testid=gateway-row][data-id="${built.gatewayId}"][data-state=revoked]`).waitFor({ timeout: APPEAR_MS });
    expect(await brokerAnswer(built.gatewayId, built.secret)).not.toBe('connected');
  }, 60_000);
});

describe('the registry pages on a wall screen and a phone', () => {
  it('edits a resident (a move to another room) from the registry page, and fits a phone', async () => {
    const page = await newPage();
    await signIn(page);
    await page.goto(`${server.url}/#/admin/registry`);
    const row = page.locator(`[data-testid=resident-row][data-id="${built.residentId}"]`);
    await row.waitFor({ timeout: APPEAR_MS });
    await row.locator('[data-testid=row-edit]').click();
    const form = row.locator('form').first();
    await form.locator('input[name=room]').fill('305');
    await form.locator('button[type=submit]').click();
    await form.locator('[data-testid=form-done]').waitFor({ timeout: APPEAR_MS });
    expect((await server.api<{ room: string }>('GET', `/api/v1/residents/${built.residentId}`)).body.room).toBe('305');
    expect((await server.api<{ room: string }>('GET', '/api/v1/devices/btn-203')).body.room).toBe('305');
    await screenshot(page, 'registry');

    const phone = await newPage({ width: 390, height: 844 });
    await signIn(phone);
    for (const [section, testid] of [
      ['registry', 'registry-page'],
      ['users', 'users-page'],
      ['gateways', 'gateways-page'],
      ['setup', 'setup-page'],
    ] as const) {
      await phone.goto(`${server.url}/#/admin/${section}`);
      await phone.locator(`[data-testid=${testid}]`).waitFor({ timeout: APPEAR_MS });
      await phone.locator('form').first().waitFor({ timeout: APPEAR_MS });
      expect(await widerThanScreen(phone), `${section} on a phone`).toEqual([]);
    }
    await phone.goto(`${server.url}/#/admin/registry`);
    await phone.locator('[data-testid=resident-list]').waitFor({ timeout: APPEAR_MS });
    await screenshot(phone, 'registry-phone');
  }, 240_000);
});

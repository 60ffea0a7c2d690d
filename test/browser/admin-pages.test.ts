// Issue 16, the administration pages for the response chain and its records, driven in Debian's
// Chromium against one real server (embedded broker, SQLite, a fake clock so escalation needs no
// waiting) and a raw MQTT client as the gateway. The key test: an administrator edits the site's
// chain on the page and the next unanswered alarm follows it, to a webhook this test runs. Each page
// is also checked at phone width (nothing wider than the screen) and saved as a screenshot.
import { createHmac } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { MqttClient } from 'mqtt';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Alarm, gatewayTopic } from '../../protocol/index.ts';
import { launchChromium, signIn as signInAt } from '../helpers/browser.ts';
import { FakeClock } from '../helpers/fake-clock.ts';
import { connectAsGateway, type DemoSite, registerSite, startTestServer, type TestServer, waitFor } from '../helpers/harness.ts';

const ARTIFACTS = path.resolve(import.meta.dirname, '../../test-artifacts');
const SCREENSHOTS = path.resolve(import.meta.dirname, '../../docs/screenshots');
const APPEAR_MS = 8000;
const SECRET = 'page-typed-secret-0123456789';

const clock = new FakeClock(Date.now());
let server: TestServer;
let site: DemoSite;
let gw: MqttClient;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let hookUrl: string;
let hookServer: http.Server;
const hooks: Array<{ body: string; signature: string | undefined }> = [];
let seq = 0;

async function publish(device: string, type: string) {
  seq += 1;
  await gw.publishAsync(
    gatewayTopic(site.siteId, site.gatewayId, 'events'),
    JSON.stringify({ v: 1, id: `adm-${seq}-${Date.now()}`, seq, ts: clock.iso(), device, type }),
    { qos: 1 },
  );
}
const alarms = async () => (await server.api<{ alarms: Alarm[] }>('GET', '/api/v1/alarms')).body.alarms;

async function open(section: string, testid: string) {
  const url = `${server.url}/#/admin/${section}`;
  // Going to the URL the page is at changes nothing: load it afresh instead.
  if (page.url() === url) await page.reload();
  else await page.goto(url);
  await page.locator(`[data-testid=${testid}]`).waitFor({ timeout: APPEAR_MS });
  await page.locator('[data-testid=loading]').first().waitFor({ state: 'detached', timeout: APPEAR_MS });
}

async function screenshot(name: string) {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, `admin-${name}.png`);
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: file, animations: 'disabled' });
  // The README's pictures change only when asked: UPDATE_SCREENSHOTS=1.
  if (process.env.UPDATE_SCREENSHOTS === '1') {
    fs.mkdirSync(SCREENSHOTS, { recursive: true });
    fs.copyFileSync(file, path.join(SCREENSHOTS, `admin-${name}.png`));
  }
}

/** On a phone the page scrolls down only: nothing sticks out sideways (wide tables scroll inside their box). */
async function fitsPhone(section: string, testid: string) {
  await page.setViewportSize({ width: 390, height: 844 });
  await open(section, testid);
  // The elements sticking out, named for the failure message.
  const wide = await page.evaluate(() => {
    const w = document.documentElement.clientWidth;
    const out = [...document.querySelectorAll('body *')].filter(
      (e) => e.getBoundingClientRect().right > w + 1 && !e.closest('.table-wrap'),
    );
    // The innermost ones: the cause, not every box around it.
    return out
      .filter((e) => !out.some((o) => o !== e && e.contains(o)))
      .slice(0, 5)
      .map((e) => `${e.tagName.toLowerCase()}.${[...e.classList].join('.')}[${e.getAttribute('data-testid') ?? ''}]`);
  });
  await page.setViewportSize({ width: 1920, height: 1080 });
  expect(wide, `${section} is wider than a phone`).toEqual([]);
}

beforeAll(async () => {
  hookServer = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => {
      body += c.toString();
    });
    req.on('end', () => {
      hooks.push({ body, signature: req.headers['x-care-signature'] as string | undefined });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => hookServer.listen(0, '127.0.0.1', () => r()));
  hookUrl = `http://127.0.0.1:${(hookServer.address() as AddressInfo).port}/care-hook`;
  server = await startTestServer(undefined, { clock });
  site = await registerSite(server);
  await server.api('POST', '/api/v1/residents', { siteId: site.siteId, name: '李建国', room: '204', bed: 'A' });
  const staff = await server.api('POST', '/api/v1/users', {
    username: 'liu.hong',
    password: 'caregiver-password-1',
    role: 'caregiver',
    displayName: '刘红',
    siteId: site.siteId,
  });
  expect(staff.status).toBe(201);
  gw = await connectAsGateway(server, site);
  browser = await launchChromium();
  context = await browser.newContext({
    viewport: { width: 1920, height: 1080 },
    locale: 'zh-CN',
    timezoneId: 'Asia/Shanghai',
    acceptDownloads: true,
  });
  page = await context.newPage();
  await signInAt(page, server.url, { liveWithinMs: APPEAR_MS });
});

afterAll(async () => {
  await context?.close().catch(() => {});
  await browser?.close();
  await gw?.endAsync();
  await server?.stop();
  hookServer?.close();
});

describe('the escalation chain page', () => {
  it('an admin adds a webhook to level 1 and shortens level 0; the next unanswered call follows the new chain', async () => {
    await page.goto(`${server.url}/#/admin`);
    await page.locator('[data-testid=nav-escalation]').click();
    await page.locator('[data-testid=chain-editor]').waitFor({ timeout: APPEAR_MS });
    const levels = page.locator('[data-testid=chain-level]');
    expect(await levels.count()).toBe(4);
    // Level 0: high-priority alarms wait 20 s instead of the default 60 s.
    await levels.nth(0).locator('[data-testid=chain-wait-high]').fill('20');
    // Level 1: a webhook.
    await levels.nth(1).locator('[data-testid=chain-add-contact]').click();
    const contact = levels.nth(1).locator('[data-testid=chain-contact]').last();
    await contact.locator('select').selectOption('webhook');
    await contact.locator('[data-testid=chain-target]').fill(hookUrl);
    await page.locator('[data-testid=chain-secret]').fill(SECRET);
    await screenshot('escalation');
    await page.locator('[data-testid=chain-save]').click();
    await page.locator('[data-testid=status]', { hasText: '已保存' }).waitFor({ timeout: APPEAR_MS });

    const saved = await server.api<{ levels: Array<{ timeoutSeconds: unknown; contacts: unknown[] }>; webhookSecret?: string }>(
      'GET',
      `/api/v1/sites/${site.siteId}/escalation`,
    );
    expect(saved.body.levels[0]?.timeoutSeconds).toEqual({ high: 20, medium: 300, low: 1800 });
    expect(saved.body.levels[1]?.contacts).toEqual([{ kind: 'webhook', target: hookUrl }]);
    expect(saved.body.webhookSecret).toBe('(set)');

    await publish('btn-203', 'call');
    const call = await waitFor(async () => (await alarms()).find((a) => a.type === 'call' && a.state === 'active'), 'call alarm');
    // Under the old chain (60 s) nothing would move yet; under the new one (20 s) it escalates.
    clock.advance(21_000);
    await server.tick();
    const hook = await waitFor(() => hooks.find((h) => h.body.includes(call.id)), 'webhook from the new chain', APPEAR_MS);
    const body = JSON.parse(hook.body) as { level: number; alarm: Alarm };
    expect(body.level).toBe(1);
    expect(body.alarm.id).toBe(call.id);
    // Signed with the secret typed on the page.
    expect(hook.signature).toBe(`sha256=${createHmac('sha256', SECRET).update(hook.body).digest('hex')}`);
    // Closed, so the device test's press below raises a new (test) alarm, not a repeat of this one.
    expect((await server.api('POST', `/api/v1/alarms/${call.id}/resolve`, { outcome: 'assisted' })).status).toBe(200);
  }, 60_000);

  it('saving again without typing the secret keeps it and what the page does not show; a bad wait is refused naming the level', async () => {
    // Set through the API: the page must send these back as they were.
    const before = await server.api<{ levels: Array<Record<string, unknown>> }>('GET', `/api/v1/sites/${site.siteId}/escalation`);
    const levelsWithRepages = before.body.levels.map((l, i) => (i === 1 ? { ...l, repages: 2 } : l));
    const put = await server.api('PUT', `/api/v1/sites/${site.siteId}/escalation`, { levels: levelsWithRepages, attendSeconds: 900 });
    expect(put.status).toBe(200);
    await page.reload();
    await page.locator('[data-testid=chain-editor]').waitFor({ timeout: APPEAR_MS });
    const levels = page.locator('[data-testid=chain-level]');
    await levels.nth(2).locator('[data-testid=chain-name]').fill('family_and_neighbour');
    await levels.nth(0).locator('[data-testid=chain-wait-high]').fill('2');
    await page.locator('[data-testid=chain-save]').click();
    await page.locator('[data-testid=chain-problem]', { hasText: '第 0 级' }).waitFor({ timeout: APPEAR_MS });
    expect(
      (await server.api<{ levels: Array<{ name: string }> }>('GET', `/api/v1/sites/${site.siteId}/escalation`)).body.levels[2]?.name,
    ).toBe('family');
    await levels.nth(0).locator('[data-testid=chain-wait-high]').fill('20');
    await page.locator('[data-testid=chain-save]').click();
    await page.locator('[data-testid=status]', { hasText: '已保存' }).waitFor({ timeout: APPEAR_MS });
    const saved = await server.api<{ levels: Array<{ name: string }>; webhookSecret?: string; attendSeconds?: number }>(
      'GET',
      `/api/v1/sites/${site.siteId}/escalation`,
    );
    expect(saved.body.levels[2]?.name).toBe('family_and_neighbour');
    expect(saved.body.webhookSecret).toBe('(set)');
    expect(saved.body).toMatchObject({ attendSeconds: 900, levels: [{}, { repages: 2 }, {}, {}] });
  }, 30_000);
});

describe('shifts', () => {
  it('plans a shift for a caregiver of the site, lists it, and deletes it after a confirmation naming who', async () => {
    await open('shifts', 'page-shifts');
    expect(await page.locator('[data-testid=shift-row]').count()).toBe(0);
    await page.locator('[data-testid=shift-user]').selectOption({ label: '刘红 (liu.hong)' });
    await page.locator('[data-testid=shift-rooms]').fill('203, 204');
    await page.locator('[data-testid=shift-plan] button[type=submit]').click();
    const row = page.locator('[data-testid=shift-row]');
    await row.waitFor({ timeout: APPEAR_MS });
    expect(await row.textContent()).toContain('刘红');
    expect(await row.textContent()).toContain('203, 204');
    await screenshot('shifts');

    await row.locator('[data-testid=shift-delete]').click();
    const dialog = page.locator('[data-testid=confirm-dialog]');
    expect(await dialog.textContent()).toContain('刘红');
    await page.locator('[data-testid=confirm-cancel]').click();
    expect(await row.count()).toBe(1);
    await row.locator('[data-testid=shift-delete]').click();
    await page.locator('[data-testid=confirm-ok]').click();
    await row.waitFor({ state: 'detached', timeout: APPEAR_MS });
    expect((await server.api<{ shifts: unknown[] }>('GET', `/api/v1/shifts?siteId=${site.siteId}`)).body.shifts).toEqual([]);
  }, 30_000);
});

describe('device tests', () => {
  it('starts a test, a press passes it, and plans the weekly check', async () => {
    await open('tests', 'page-tests');
    const dev = page.locator('[data-testid=test-device][data-device-id=btn-203]');
    await dev.locator('[data-testid=test-start]').click();
    await dev.locator('[data-testid=status]', { hasText: '检测已开始' }).waitFor({ timeout: APPEAR_MS });
    await dev.locator('[data-testid=test-results] tr[data-result=pending]').waitFor({ timeout: APPEAR_MS });
    await publish('btn-203', 'call');
    await waitFor(async () => (await alarms()).some((a) => a.deviceId === 'btn-203' && a.test), 'test alarm');
    // Reopen the results: the test has passed.
    await dev.locator('[data-testid=test-results-toggle]').click();
    await dev.locator('[data-testid=test-results-toggle]').click();
    await dev.locator('[data-testid=test-results] tr[data-result=passed]').waitFor({ timeout: APPEAR_MS });

    await page.locator('[data-testid=schedule-weekday]').selectOption('3');
    await page.locator('[data-testid=schedule-time]').fill('10:30');
    await page.locator('[data-testid=schedule-save]').click();
    await page.locator('[data-testid=test-schedule-now]', { hasText: '10:30' }).waitFor({ timeout: APPEAR_MS });
    expect(await page.locator('[data-testid=test-schedule-now]').textContent()).toContain('星期三');
    const s = await server.api<{ schedule: { weekday: number; time: string } }>('GET', `/api/v1/sites/${site.siteId}/test-schedule`);
    expect(s.body.schedule).toMatchObject({ weekday: 3, time: '10:30' });
    await screenshot('device-tests');
  }, 30_000);
});

describe('the response report', () => {
  it('shows the KPIs with three uPlot charts and downloads the server’s CSV', async () => {
    await open('report', 'page-report');
    await page.locator('[data-testid=kpi-alarms]').waitFor({ timeout: APPEAR_MS });
    expect(Number(await page.locator('[data-testid=kpi-alarms] .kpi-value').textContent())).toBeGreaterThanOrEqual(1);
    await waitFor(async () => (await page.locator('.report-charts .uplot').count()) === 3, 'three charts', APPEAR_MS);
    await screenshot('report');
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('[data-testid=report-csv]').click()]);
    const csv = fs.readFileSync(await download.path(), 'utf8');
    expect(csv.split('\n')[0]).toMatch(/^siteId,alarms,ackSecondsP50/);
    expect(csv).toContain(site.siteId);
  }, 30_000);
});

describe('notifications, receipts and the audit log', () => {
  it('lists the webhook notification as delivered, and filters to an empty state', async () => {
    await open('notifications', 'page-notifications');
    const row = page.locator('[data-testid=notif-row][data-channel=webhook]').first();
    await row.waitFor({ timeout: APPEAR_MS });
    expect(await row.getAttribute('data-state')).toBe('delivered');
    expect(await row.textContent()).toContain(hookUrl);
    await screenshot('notifications');
    await page.locator('[data-testid=notif-state]').selectOption('failed');
    await page.locator('[data-testid=empty]').waitFor({ timeout: APPEAR_MS });
  }, 30_000);

  it('a failed load shows an error with a retry that recovers', async () => {
    await page.route('**/api/v1/notifications*', (r) =>
      r.fulfill({ status: 503, contentType: 'application/json', body: '{"error":"UNAVAILABLE","message":"busy"}' }),
    );
    await open('notifications', 'page-notifications');
    await page.locator('[data-testid=load-error]').waitFor({ timeout: APPEAR_MS });
    await page.unroute('**/api/v1/notifications*');
    await page.locator('[data-testid=load-error] button').click();
    await page.locator('[data-testid=notif-row]').first().waitFor({ timeout: APPEAR_MS });
  }, 30_000);

  it('the audit log is searched by resident, by user and by date', async () => {
    await open('audit', 'page-audit');
    await page.locator('[data-testid=audit-row]').first().waitFor({ timeout: APPEAR_MS });
    await page.locator('[data-testid=audit-resident]').selectOption(site.residentId);
    await page.locator('[data-testid=audit-row][data-action=raised]').first().waitFor({ timeout: APPEAR_MS });
    await screenshot('audit');
    await page.locator('[data-testid=audit-user]').fill('admin');
    await page.locator('[data-testid=audit-user]').press('Tab');
    await waitFor(
      async () => {
        const actors = await page.locator('[data-testid=audit-row] td:nth-child(2)').allTextContents();
        return actors.length > 0 && actors.every((a) => a === 'admin');
      },
      'only the admin’s entries',
      APPEAR_MS,
    );
    await page.locator('[data-testid=audit-from]').fill('2020-01-01');
    await page.locator('[data-testid=audit-to]').fill('2020-01-02');
    await page.locator('[data-testid=empty]').waitFor({ timeout: APPEAR_MS });
  }, 30_000);
});

describe('resident settings and supervision', () => {
  it('saves vital-sign limits and a confirmation delay, merged into the resident’s settings', async () => {
    await open('limits', 'page-limits');
    await page.locator('[data-testid=limits-resident]').selectOption(site.residentId);
    await page.locator('[data-testid=limit-heart_rate-min]').fill('50');
    await page.locator('[data-testid=limit-heart_rate-max]').fill('110');
    await page.locator('[data-testid=limit-heart_rate-sustainSeconds]').fill('120');
    await page.locator('[data-testid=delay-bed_exit]').fill('30');
    await page.locator('[data-testid=limits-save]').click();
    await page.locator('[data-testid=status]', { hasText: '已保存' }).waitFor({ timeout: APPEAR_MS });
    const r = await server.api<{ settings: Record<string, unknown> }>('GET', `/api/v1/residents/${site.residentId}`);
    expect(r.body.settings).toMatchObject({
      vitals: { heart_rate: { min: 50, max: 110, sustainSeconds: 120 } },
      confirmDelaySeconds: { bed_exit: 30 },
    });
    await screenshot('limits');
    // A minimum above the maximum is refused on the page, naming the sign.
    await page.locator('[data-testid=limit-spo2-min]').fill('99');
    await page.locator('[data-testid=limit-spo2-max]').fill('90');
    await page.locator('[data-testid=limits-save]').click();
    await expect(page.locator('[data-testid=status]').textContent()).resolves.toContain('血氧');
  }, 30_000);

  it('sets the site’s commissioning grace and a device’s own supervision interval', async () => {
    await open('supervision', 'page-supervision');
    await page.locator('[data-testid=sup-device]').first().waitFor({ timeout: APPEAR_MS });
    await page.locator('[data-testid=sup-grace-minutes]').fill('120');
    await page.locator('[data-testid=sup-grace-save]').click();
    await page.locator('[data-testid=sup-grace] [data-testid=status]', { hasText: '已保存' }).waitFor({ timeout: APPEAR_MS });
    const s = await server.api('GET', `/api/v1/sites/${site.siteId}/supervision`);
    expect(s.body).toEqual({ commissioningGraceMinutes: 120, default: false });
    // A device's own interval, where the server offers PATCH /api/v1/devices/:id.
    const row = page.locator('[data-testid=sup-device][data-device-id=btn-203]');
    await row.locator('input').fill('30');
    await row.locator('button[type=submit]').click();
    await row.locator('[data-testid=status]', { hasText: '已保存' }).waitFor({ timeout: APPEAR_MS });
    const d = await server.api<{ supervisionSeconds: number | null }>('GET', '/api/v1/devices/btn-203');
    expect(d.body.supervisionSeconds).toBe(1800);
    await screenshot('supervision');
  }, 30_000);
});

describe('privacy', () => {
  it('exports a resident’s data and erases it only after a confirmation naming the resident', async () => {
    const r = await server.api<{ id: string }>('POST', '/api/v1/residents', { siteId: site.siteId, name: '赵秀兰', room: '205' });
    await open('privacy', 'page-privacy');
    await page.locator('[data-testid=privacy-resident]').selectOption(r.body.id);
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('[data-testid=privacy-export]').click()]);
    const exported = JSON.parse(fs.readFileSync(await download.path(), 'utf8')) as { resident: { name: string } };
    expect(exported.resident.name).toBe('赵秀兰');

    await page.locator('[data-testid=privacy-erase]').click();
    const dialog = page.locator('[data-testid=confirm-dialog]');
    expect(await dialog.textContent()).toContain('赵秀兰');
    expect(await dialog.textContent()).toContain('205');
    await screenshot('privacy');
    await page.locator('[data-testid=confirm-cancel]').click();
    expect((await server.api('GET', `/api/v1/residents/${r.body.id}`)).status).toBe(200);

    await page.locator('[data-testid=privacy-erase]').click();
    await page.locator('[data-testid=confirm-ok]').click();
    await page.locator('[data-testid=privacy-erased]', { hasText: '赵秀兰' }).waitFor({ timeout: APPEAR_MS });
    expect((await server.api('GET', `/api/v1/residents/${r.body.id}`)).status).toBe(404);
  }, 30_000);
});

describe('on a phone and in English', () => {
  it('no page is wider than a phone screen', async () => {
    for (const [section, testid] of [
      ['escalation', 'page-escalation'],
      ['shifts', 'page-shifts'],
      ['tests', 'page-tests'],
      ['report', 'page-report'],
      ['notifications', 'page-notifications'],
      ['audit', 'page-audit'],
      ['limits', 'page-limits'],
      ['supervision', 'page-supervision'],
      ['privacy', 'page-privacy'],
    ] as const)
      await fitsPhone(section, testid);
  }, 60_000);

  it('the pages speak English after the switch', async () => {
    await open('escalation', 'page-escalation');
    await page.locator('[data-testid=lang-switch]').click();
    await page.locator('h1', { hasText: 'Escalation chains' }).waitFor({ timeout: APPEAR_MS });
    expect(await page.locator('[data-testid=response-nav]').textContent()).toContain('Audit log');
    await page.locator('[data-testid=lang-switch]').click();
  }, 30_000);
});

describe('the site picker', () => {
  it("a page about one site follows the picker: the other site's devices and chain show, never the first one's", async () => {
    const other = await server.api<{ id: string }>('POST', '/api/v1/sites', {
      name: '第二家',
      kind: 'nursing_home',
      timezone: 'Asia/Shanghai',
    });
    const gw2 = await server.api<{ id: string }>('POST', '/api/v1/gateways', { siteId: other.body.id, name: 'Floor 1' });
    expect((await server.api('POST', '/api/v1/devices', { id: 'btn-901', gatewayId: gw2.body.id, kind: 'call_button' })).status).toBe(201);
    for (const [section, testid] of [
      ['tests', 'page-tests'],
      ['supervision', 'page-supervision'],
    ] as const) {
      await open(section, testid);
      await page.locator('[data-testid=site-picker]').selectOption(site.siteId);
      await page.locator('[data-device-id=btn-203]').first().waitFor({ timeout: APPEAR_MS });
      await page.locator('[data-testid=site-picker]').selectOption(other.body.id);
      await page.locator('[data-device-id=btn-901]').first().waitFor({ timeout: APPEAR_MS });
      expect(await page.locator('[data-device-id=btn-203]').count()).toBe(0);
    }
    // The chain editor is drawn afresh for each site: the first site's edited level is not the other's.
    await open('escalation', 'page-escalation');
    const names = () => page.locator('[data-testid=chain-name]').evaluateAll((els) => els.map((e) => (e as HTMLInputElement).value));
    await page.locator('[data-testid=site-picker]').selectOption(site.siteId);
    await waitFor(async () => (await names()).includes('family_and_neighbour'), "the first site's chain");
    await page.locator('[data-testid=site-picker]').selectOption(other.body.id);
    await waitFor(async () => {
      const n = await names();
      return n.length > 0 && !n.includes('family_and_neighbour');
    }, "the other site's chain");
  }, 30_000);
});

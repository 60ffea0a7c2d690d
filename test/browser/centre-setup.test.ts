// Issue 15, the centre's pages for areas, homes and family contacts, driven in Debian's Chromium
// (zh-CN, no map tiles) against one real server: an administrator builds district -> street ->
// community and renames one, creates a family care bed with a position clicked on the map and a
// grid worker, adds two family contacts (a bad number is named first) and reorders them, and the
// home then shows on the centre's board. A centre operator of that street (given it on the users
// page) sees only their part of the tree and their homes, edits a home's place and grid worker, is
// offered nothing admin-only, and a refusal the server gives anyway (403) is shown as one. Saves
// docs/screenshots/centre-{areas,home,contacts}.png with UPDATE_SCREENSHOTS=1.
import fs from 'node:fs';
import path from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Site } from '../../protocol/api.ts';
import type { Area, FamilyContact } from '../../protocol/areas.ts';
import { ADMIN_PASSWORD, startTestServer, type TestServer, waitFor } from '../helpers/harness.ts';

const ARTIFACTS = path.resolve(import.meta.dirname, '../../test-artifacts');
const SCREENSHOTS = path.resolve(import.meta.dirname, '../../docs/screenshots');
const PASSWORD = 'correct horse battery';
const APPEAR_MS = 10_000;

let server: TestServer;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let gridId: string;
let grid2Id: string;
let homeId: string;
const foreignRequests: string[] = [];

async function ok<T>(method: string, route: string, body?: unknown, token?: string): Promise<T> {
  const r = await server.api<T>(method, route, body, token);
  if (r.status >= 300) throw new Error(`${method} ${route}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}
const areaNamed = async (name: string) => (await ok<{ areas: Area[] }>('GET', '/api/v1/areas')).areas.find((a) => a.name === name) as Area;

async function signIn(username: string, password: string, viewport = { width: 1280, height: 900 }) {
  context = await browser.newContext({ viewport, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
  page = await context.newPage();
  page.setDefaultTimeout(APPEAR_MS);
  page.on('request', (r) => {
    if (!r.url().startsWith(server.url) && !r.url().startsWith('data:')) foreignRequests.push(r.url());
  });
  await page.goto(server.url);
  await page.locator('input[name=username]').fill(username);
  await page.locator('input[name=password]').fill(password);
  await page.locator('button[type=submit]').click();
  await page.locator('[data-testid=connection]').waitFor({ timeout: APPEAR_MS });
}

async function screenshot(name: string) {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, `${name}.png`);
  // From the top, so the sticky header is where it belongs in a full-page picture.
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: file, fullPage: true, animations: 'disabled' });
  if (process.env.UPDATE_SCREENSHOTS === '1') {
    fs.mkdirSync(SCREENSHOTS, { recursive: true });
    fs.copyFileSync(file, path.join(SCREENSHOTS, `${name}.png`));
  }
}

const area = (name: string) => page.locator(`[data-testid=area][data-name="${name}"]`);
/** The row of an area itself (its own buttons, not its children's). */
const areaRow = (name: string) => area(name).locator(':scope > .area-row');

beforeAll(async () => {
  server = await startTestServer();
  gridId = (
    await ok<{ id: string }>('POST', '/api/v1/users', {
      username: 'grid',
      password: PASSWORD,
      role: 'grid_worker',
      displayName: '网格员 周',
    })
  ).id;
  grid2Id = (
    await ok<{ id: string }>('POST', '/api/v1/users', {
      username: 'grid2',
      password: PASSWORD,
      role: 'grid_worker',
      displayName: '网格员 吴',
    })
  ).id;
  // Another district's home, set up through the API: the operator must not see it.
  const d = await ok<{ id: string }>('POST', '/api/v1/areas', { kind: 'district', name: '长宁区' });
  const s = await ok<{ id: string }>('POST', '/api/v1/areas', { kind: 'street', name: '华阳路街道', parentId: d.id });
  const c = await ok<{ id: string }>('POST', '/api/v1/areas', { kind: 'community', name: '华阳社区', parentId: s.id });
  const other = await ok<{ id: string }>('POST', '/api/v1/sites', {
    name: '张桂兰家',
    kind: 'family_bed',
    timezone: 'Asia/Shanghai',
    areaId: c.id,
    address: '华阳路 99 号',
    lat: 31.2205,
    lon: 121.4302,
  });
  await ok('POST', '/api/v1/residents', { siteId: other.id, name: '张桂兰', room: '家中' });
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

describe("the centre's pages: areas, homes, family contacts", () => {
  it('an administrator builds district, street and community, and renames one', async () => {
    await signIn('admin', ADMIN_PASSWORD);
    await page.goto(`${server.url}/#/admin/areas`);
    await page.locator('[data-testid=areas-page]').waitFor({ timeout: APPEAR_MS });
    await area('长宁区').waitFor({ timeout: APPEAR_MS });
    expect(await page.locator('[data-testid=nav-areas]').getAttribute('aria-current')).toBe('page');

    await page.locator('[data-testid=add-district] input[name=name]').fill('徐汇区');
    await page.locator('[data-testid=add-district] button[type=submit]').click();
    await area('徐汇区').waitFor({ timeout: APPEAR_MS });

    await areaRow('徐汇区').locator('[data-testid=area-add-child]').click();
    await area('徐汇区').locator('[data-testid=add-street] input[name=name]').fill('天平街道');
    await area('徐汇区').locator('[data-testid=add-street] button[type=submit]').click();
    await area('天平街道').waitFor({ timeout: APPEAR_MS });

    await areaRow('天平街道').locator('[data-testid=area-add-child]').click();
    await area('天平街道').locator('[data-testid=add-community] input[name=name]').fill('永嘉');
    await area('天平街道').locator('[data-testid=add-community] button[type=submit]').click();
    await area('永嘉').waitFor({ timeout: APPEAR_MS });
    // A community is the bottom of the tree: nothing can be added under it.
    expect(await areaRow('永嘉').locator('[data-testid=area-add-child]').count()).toBe(0);

    await areaRow('永嘉').locator('[data-testid=area-rename]').click();
    await area('永嘉').locator('[data-testid=rename-form] input[name=name]').fill('永嘉社区');
    await area('永嘉').locator('[data-testid=rename-form] button[type=submit]').click();
    await area('永嘉社区').waitFor({ timeout: APPEAR_MS });

    const street = await areaNamed('天平街道');
    const community = await areaNamed('永嘉社区');
    expect(street.kind).toBe('street');
    expect(community).toMatchObject({ kind: 'community', parentId: street.id });
    expect(await area('徐汇区').locator('[data-testid=area][data-kind=community]').count()).toBe(1);
    await screenshot('centre-areas');
  }, 90_000);

  it('creates a home in the community with a position clicked on the map and a grid worker, and edits its place', async () => {
    const community = await areaNamed('永嘉社区');
    await areaRow('永嘉社区').locator('[data-testid=area-homes]').click();
    await page.locator('[data-testid=homes-page]').waitFor({ timeout: APPEAR_MS });
    expect(page.url()).toContain(`#/admin/homes/${community.id}`);
    await page.locator('[data-testid=home-list], [data-testid=empty]').first().waitFor({ timeout: APPEAR_MS });
    expect(await page.locator('[data-testid=home]').count()).toBe(0);

    const form = page.locator('[data-testid=new-home]');
    await form.waitFor({ timeout: APPEAR_MS });
    expect(await form.locator('select[name=areaId]').inputValue()).toBe(community.id);
    await form.locator('input[name=name]').fill('王秀英家');
    await form.locator('input[name=resident]').fill('王秀英');
    await form.locator('input[name=address]').fill('永嘉路 12 弄 3 号 201 室');
    // A click on the map (no tiles: a plain background) sets the position.
    const map = form.locator('[data-testid=place-map]');
    await map.locator('.leaflet-pane').first().waitFor({ state: 'attached', timeout: APPEAR_MS });
    await map.click({ position: { x: 120, y: 90 } });
    await waitFor(async () => (await form.locator('input[name=lat]').inputValue()) !== '', 'the clicked latitude', APPEAR_MS);
    await form.locator('path.place-marker').waitFor({ timeout: APPEAR_MS });
    const lat = Number(await form.locator('input[name=lat]').inputValue());
    const lon = Number(await form.locator('input[name=lon]').inputValue());
    expect(Math.abs(lat)).toBeLessThanOrEqual(90);
    await form.locator('select[name=gridWorkerId]').selectOption(gridId);
    await form.locator('button[type=submit]').click();
    await page.locator('[data-testid=home]', { hasText: '王秀英家' }).waitFor({ timeout: APPEAR_MS });

    const sites = (await ok<{ sites: Site[] }>('GET', '/api/v1/sites')).sites;
    const created = sites.find((s) => s.name === '王秀英家') as Site;
    homeId = created.id;
    expect(created).toMatchObject({ kind: 'family_bed', areaId: community.id, gridWorkerId: gridId, address: '永嘉路 12 弄 3 号 201 室' });
    expect(created.lat).toBeCloseTo(lat, 5);
    expect(created.lon).toBeCloseTo(lon, 5);
    const home = page.locator(`[data-testid=home][data-site="${homeId}"]`);
    expect(await home.textContent()).toContain('网格员 周');
    expect(await home.locator('[data-testid=home-resident]').textContent()).toContain('王秀英');

    // Edit the place later: the address (PUT /sites/{id}/home).
    await home.locator('[data-testid=home-edit]').click();
    const place = home.locator('[data-testid=place-form]');
    await place.locator('input[name=address]').fill('永嘉路 12 弄 3 号 202 室');
    await place.locator('[data-testid=place-map] path.place-marker').waitFor({ timeout: APPEAR_MS });
    await screenshot('centre-home');
    await place.locator('button[type=submit]').click();
    await waitFor(
      async () => (await ok<Site>('GET', `/api/v1/sites/${homeId}`)).address === '永嘉路 12 弄 3 号 202 室',
      'the new address saved',
      APPEAR_MS,
    );
    await home.locator('text=永嘉路 12 弄 3 号 202 室').waitFor({ timeout: APPEAR_MS });
  }, 90_000);

  it('adds two family contacts in calling order, naming a bad number first, and reorders them', async () => {
    const home = page.locator(`[data-testid=home][data-site="${homeId}"]`);
    const residentId = (await home.locator('[data-testid=home-resident]').getAttribute('data-resident')) as string;
    // The daughter has a family login: her contact is linked to it.
    const daughter = await ok<{ id: string }>('POST', '/api/v1/users', {
      username: 'wangli',
      password: PASSWORD,
      role: 'family',
      residentId,
      displayName: '王丽',
    });
    await home.locator('[data-testid=contacts-open]').click();
    const box = home.locator('[data-testid=contacts]');
    await box.locator('[data-testid=contact-add]').waitFor({ timeout: APPEAR_MS });
    await box.locator('[data-testid=contact-add]').click();
    const first = box.locator('[data-testid=contact]').nth(0);
    await first.locator('input[name=name]').fill('王丽');
    await first.locator('input[name=relation]').fill('女儿');
    await first.locator('input[name=phone]').fill('13800000001');
    await box.locator('[data-testid=contacts-save]').click();
    const err = first.locator('[data-testid=contact-error-phone]');
    await err.waitFor({ timeout: APPEAR_MS });
    expect(await err.textContent()).toContain('+8613800000000');
    expect((await ok<{ contacts: FamilyContact[] }>('GET', `/api/v1/residents/${residentId}/contacts`)).contacts).toEqual([]);

    await first.locator('input[name=phone]').fill('+86 138 0000 0001');
    await first.locator('select[name=userId]').selectOption(daughter.id);
    await box.locator('[data-testid=contact-add]').click();
    const second = box.locator('[data-testid=contact]').nth(1);
    await second.locator('input[name=name]').fill('王强');
    await second.locator('input[name=relation]').fill('儿子');
    await second.locator('input[name=phone]').fill('+8613900000002');
    await box.locator('[data-testid=contacts-save]').click();
    await box.locator('[data-testid=contacts-status]:has-text("已保存 2")').waitFor({ timeout: APPEAR_MS });
    const saved = (await ok<{ contacts: FamilyContact[] }>('GET', `/api/v1/residents/${residentId}/contacts`)).contacts;
    expect(saved.map((c) => [c.name, c.relation, c.phone, c.userId ?? null])).toEqual([
      ['王丽', '女儿', '+8613800000001', daughter.id],
      ['王强', '儿子', '+8613900000002', null],
    ]);

    // The son is to be called first.
    await second.locator('[data-testid=contact-up]').click();
    await box.locator('[data-testid=contacts-save]').click();
    await waitFor(
      async () => (await ok<{ contacts: FamilyContact[] }>('GET', `/api/v1/residents/${residentId}/contacts`)).contacts[0]?.name === '王强',
      'the new calling order saved',
      APPEAR_MS,
    );
    await screenshot('centre-contacts');
  }, 90_000);

  it("the home then shows on the centre's board with its address and grid worker", async () => {
    await page.goto(`${server.url}/#/centre`);
    const row = page.locator(`[data-testid=centre-home][data-site="${homeId}"]`);
    await row.waitFor({ timeout: APPEAR_MS });
    expect(await row.textContent()).toContain('永嘉路 12 弄 3 号 202 室');
    expect(await row.textContent()).toContain('网格员 周');
    expect(await row.textContent()).toContain('永嘉社区');
    await page.locator('path.home-marker').nth(1).waitFor({ timeout: APPEAR_MS });
    expect(await page.locator('[data-testid=centre-setup]').count()).toBe(1);
    expect(foreignRequests).toEqual([]);
    await context.close();
  }, 60_000);

  it("a centre operator sees only their area, may edit its homes' place and grid worker, and a refusal shows as one", async () => {
    const street = await areaNamed('天平街道');
    const foreign = await areaNamed('华阳社区');
    // The administrator gives the operator their street on the users page (the area picked from the tree).
    await signIn('admin', ADMIN_PASSWORD);
    await page.goto(`${server.url}/#/admin/users`);
    const form = page.locator('[data-testid=user-form]');
    await form.locator(`select[name=areaId] option[value="${street.id}"]`).waitFor({ state: 'attached' });
    await form.locator('input[name=username]').fill('centre');
    await form.locator('input[name=password]').fill(PASSWORD);
    await form.locator('select[name=role]').selectOption('centre_operator');
    await form.locator('select[name=areaId]').selectOption(street.id);
    await form.locator('button[type=submit]').click();
    await page.locator('[data-testid=user-row][data-username="centre"]').waitFor();
    await context.close();

    await signIn('centre', PASSWORD);
    await page.goto(`${server.url}/#/centre`);
    await page.locator('[data-testid=centre-areas-link]').click();
    await area('天平街道').waitFor({ timeout: APPEAR_MS });
    await area('永嘉社区').waitFor({ timeout: APPEAR_MS });
    const tree = (await page.locator('[data-testid=area-tree]').textContent()) ?? '';
    expect(tree).not.toContain('徐汇区');
    expect(tree).not.toContain('长宁区');
    expect(tree).not.toContain('华阳');
    // Areas are changed by administrators only: nothing to change them is offered.
    expect(await page.locator('[data-testid=area-rename], [data-testid=area-add-child], [data-testid=add-district]').count()).toBe(0);

    await page.goto(`${server.url}/#/centre/homes`);
    await page.locator(`[data-testid=home][data-site="${homeId}"]`).waitFor({ timeout: APPEAR_MS });
    expect(await page.locator('[data-testid=home]').count()).toBe(1);
    expect(await page.locator('[data-testid=homes-page]').textContent()).not.toContain('张桂兰');
    expect(await page.locator('[data-testid=new-home], [data-testid=add-resident]').count()).toBe(0);

    // Their home's place: the address and the grid worker (chosen from GET /grid-workers).
    const home = page.locator(`[data-testid=home][data-site="${homeId}"]`);
    await home.locator('[data-testid=home-edit]').click();
    const place = home.locator('[data-testid=place-form]');
    await place.locator('input[name=address]').fill('永嘉路 12 弄 3 号 203 室');
    await place.locator('select[name=gridWorkerId]').selectOption(grid2Id);
    await place.locator('button[type=submit]').click();
    await waitFor(
      async () => (await ok<Site>('GET', `/api/v1/sites/${homeId}`)).address === '永嘉路 12 弄 3 号 203 室',
      "the operator's address saved",
      APPEAR_MS,
    );
    expect((await ok<Site>('GET', `/api/v1/sites/${homeId}`)).gridWorkerId).toBe(grid2Id);

    // Moving the home to an area that is not theirs is not offered; were the form to send it (here the
    // option is put into the page, as a stale or altered form would), the server's 403 is shown as a refusal.
    await home.locator('[data-testid=home-edit]').click();
    const again = home.locator('[data-testid=place-form]');
    const options = await again.locator('select[name=areaId] option').allTextContents();
    expect(options.join(' ')).not.toContain('华阳');
    await again.locator('select[name=areaId]').evaluate((el, id) => {
      const o = document.createElement('option');
      o.value = id;
      o.textContent = 'x';
      el.appendChild(o);
    }, foreign.id);
    await again.locator('select[name=areaId]').selectOption(foreign.id);
    await again.locator('button[type=submit]').click();
    const refusal = again.locator('[data-testid=place-status]');
    await refusal.waitFor({ timeout: APPEAR_MS });
    expect(await refusal.textContent()).toContain('无权操作');
    expect(await refusal.textContent()).toContain('403');
    expect((await ok<Site>('GET', `/api/v1/sites/${homeId}`)).areaId).not.toBe(foreign.id);
    await context.close();
  }, 90_000);

  it('fits a phone: the areas tree, and a home with its place form and contacts open', async () => {
    await signIn('centre', PASSWORD, { width: 390, height: 844 });
    const wider = () =>
      page.evaluate(() => {
        const w = document.documentElement.clientWidth;
        // Leaflet's panes reach past the map's box but are clipped by it (overflow: hidden).
        const out = [...document.querySelectorAll('main *')].filter(
          (e) => e.getBoundingClientRect().right > w + 1 && !e.closest('.leaflet-container'),
        );
        return out
          .filter((e) => !out.some((o) => o !== e && e.contains(o)))
          .slice(0, 5)
          .map((e) => `${e.tagName.toLowerCase()}.${[...e.classList].join('.')}[${e.getAttribute('data-testid') ?? ''}]`);
      });
    await page.goto(`${server.url}/#/centre/areas`);
    await area('永嘉社区').waitFor();
    expect(await wider(), 'the areas page is wider than a phone').toEqual([]);
    await page.goto(`${server.url}/#/centre/homes`);
    const home = page.locator(`[data-testid=home][data-site="${homeId}"]`);
    await home.locator('[data-testid=home-edit]').click();
    await home.locator('[data-testid=place-map]').waitFor();
    await home.locator('[data-testid=contacts-open]').click();
    await home.locator('[data-testid=contact]').nth(1).waitFor();
    expect(await wider(), 'the homes page is wider than a phone').toEqual([]);
    await context.close();
  }, 60_000);
});

// The community centre's board (issue 15 part 5) in Debian's Chromium, at phone size and without
// map tiles: a centre operator sees a family bed's alarm on the board and as a red marker on the
// map (Leaflet served from our own origin), then who accepted it and that they are on site. The
// other street's home is on neither. Saves a zh-CN screenshot (docs/screenshots/centre.png with
// UPDATE_SCREENSHOTS=1).
import fs from 'node:fs';
import path from 'node:path';
import type { MqttClient } from 'mqtt';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Alarm, gatewayTopic } from '../../protocol/index.ts';
import { launchChromium, signIn as signInAt } from '../helpers/browser.ts';
import { connectAsGateway, startTestServer, type TestServer, waitFor } from '../helpers/harness.ts';

const ARTIFACTS = path.resolve(import.meta.dirname, '../../test-artifacts');
const SCREENSHOTS = path.resolve(import.meta.dirname, '../../docs/screenshots');
const PASSWORD = 'correct horse battery';
const APPEAR_MS = 10_000;

let server: TestServer;
let browser: Browser;
let page: Page;
const gws: MqttClient[] = [];
const foreignRequests: string[] = [];

async function ok<T>(method: string, route: string, body?: unknown, token?: string): Promise<T> {
  const r = await server.api<T>(method, route, body, token);
  if (r.status >= 300) throw new Error(`${method} ${route}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

async function home(name: string, address: string, areaId: string, resident: string, lat: number, lon: number, gridWorkerId?: string) {
  const site = await ok<{ id: string }>('POST', '/api/v1/sites', {
    name,
    kind: 'family_bed',
    timezone: 'Asia/Shanghai',
    areaId,
    address,
    lat,
    lon,
    ...(gridWorkerId ? { gridWorkerId } : {}),
  });
  const r = await ok<{ id: string }>('POST', '/api/v1/residents', { siteId: site.id, name: resident, room: '1' });
  const gw = await ok<{ id: string; secret: string }>('POST', '/api/v1/gateways', { siteId: site.id, name });
  await ok('POST', '/api/v1/devices', { id: `btn-${site.id}`, gatewayId: gw.id, kind: 'call_button', residentId: r.id });
  const client = await connectAsGateway(server, { gatewayId: gw.id, secret: gw.secret });
  gws.push(client);
  return { siteId: site.id, gatewayId: gw.id, gw: client };
}

beforeAll(async () => {
  server = await startTestServer();
  const district = await ok<{ id: string }>('POST', '/api/v1/areas', { kind: 'district', name: '徐汇区' });
  const street = await ok<{ id: string }>('POST', '/api/v1/areas', { kind: 'street', name: '天平街道', parentId: district.id });
  const other = await ok<{ id: string }>('POST', '/api/v1/areas', { kind: 'street', name: '湖南街道', parentId: district.id });
  const community = await ok<{ id: string }>('POST', '/api/v1/areas', { kind: 'community', name: '永嘉社区', parentId: street.id });
  const otherCommunity = await ok<{ id: string }>('POST', '/api/v1/areas', { kind: 'community', name: '武康社区', parentId: other.id });
  await ok('POST', '/api/v1/users', {
    username: 'centre',
    password: PASSWORD,
    role: 'centre_operator',
    areaId: street.id,
    displayName: '值班员 陈',
  });
  const grid = await ok<{ id: string }>('POST', '/api/v1/users', {
    username: 'grid',
    password: PASSWORD,
    role: 'grid_worker',
    displayName: '网格员 周',
  });
  const wang = await home('王秀英家', '永嘉路 12 弄 3 号 201 室', community.id, '王秀英', 31.2085, 121.4513, grid.id);
  await home('李建国家', '永嘉路 40 号 102 室', community.id, '李建国', 31.2092, 121.4548);
  await home('张桂兰家', '武康路 99 号', otherCommunity.id, '张桂兰', 31.205, 121.44);

  // A call at Mrs Wang's.
  await wang.gw.publishAsync(
    gatewayTopic(wang.siteId, wang.gatewayId, 'events'),
    JSON.stringify({ v: 1, id: 'centre-1', seq: 1, ts: new Date().toISOString(), device: `btn-${wang.siteId}`, type: 'call' }),
    { qos: 1 },
  );
  await waitFor(
    async () =>
      (await server.api<{ alarms: Alarm[] }>('GET', '/api/v1/alarms?state=active')).body.alarms.find((a) => a.siteId === wang.siteId),
    'the call at Mrs Wang’s',
  );

  browser = await launchChromium();
  const context = await browser.newContext({
    viewport: { width: 390, height: 844 },
    deviceScaleFactor: 2,
    locale: 'zh-CN',
    timezoneId: 'Asia/Shanghai',
  });
  page = await context.newPage();
  page.on('request', (r) => {
    if (!r.url().startsWith(server.url) && !r.url().startsWith('data:')) foreignRequests.push(r.url());
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  for (const g of gws) await g.endAsync();
  await server?.stop();
});

describe("the community centre's board", () => {
  it("shows the operator's family beds, the alarm on the board and on the map, offline", async () => {
    await signInAt(page, server.url, { username: 'centre', password: PASSWORD, liveWithinMs: APPEAR_MS });
    await page.goto(`${server.url}/#/centre`);
    const homes = page.locator('[data-testid=centre-home]');
    await page.locator('[data-testid=centre-home][data-state=active]').waitFor({ timeout: APPEAR_MS });
    expect(await homes.count()).toBe(2);
    const active = page.locator('[data-testid=centre-home][data-state=active]');
    expect(await active.textContent()).toContain('永嘉路 12 弄 3 号 201 室');
    expect(await active.textContent()).toContain('紧急呼叫');
    expect(await page.locator('[data-testid=centre]').textContent()).not.toContain('武康路');
    // On the map: one red marker (the alarm), one green; drawn without any tile.
    await page.locator('path.home-marker.state-active').waitFor({ timeout: APPEAR_MS });
    expect(await page.locator('path.home-marker').count()).toBe(2);
    expect(await page.locator('path.home-marker.state-ok').count()).toBe(1);
    expect(await page.locator('.leaflet-tile').count()).toBe(0);
    expect(await page.locator('.leaflet-control-attribution').count()).toBe(0);
    expect(foreignRequests).toEqual([]);
  }, 60_000);

  it('shows who accepted and who is on site, as it happens', async () => {
    const gridToken = (await ok<{ token: string }>('POST', '/api/v1/auth/login', { username: 'grid', password: PASSWORD }, '')).token;
    const alarms = await ok<{ alarms: Alarm[] }>('GET', '/api/v1/alarms?state=active', undefined, gridToken);
    const call = alarms.alarms[0] as Alarm;
    await ok('POST', `/api/v1/alarms/${call.id}/ack`, undefined, gridToken);
    const accepted = page.locator('[data-testid=centre-home][data-state=acknowledged] [data-testid=centre-accepted]');
    await accepted.waitFor({ timeout: APPEAR_MS });
    expect(await accepted.textContent()).toContain('grid');
    await page.locator('path.home-marker.state-acknowledged').waitFor({ timeout: APPEAR_MS });
    await ok('POST', `/api/v1/alarms/${call.id}/on-site`, undefined, gridToken);
    await waitFor(
      async () => ((await page.locator('[data-testid=centre-on-site]').textContent()) ?? '').includes('已到场'),
      'on site on the board',
      APPEAR_MS,
    );
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    const file = path.join(ARTIFACTS, 'dashboard-centre.png');
    await page.screenshot({ path: file, fullPage: true, animations: 'disabled' });
    if (process.env.UPDATE_SCREENSHOTS === '1') {
      fs.mkdirSync(SCREENSHOTS, { recursive: true });
      fs.copyFileSync(file, path.join(SCREENSHOTS, 'centre.png'));
    }
  }, 60_000);
});

// End to end, as a family member lives it (issue 15): an SMSC run by this test (the `smpp`
// library's server side) receives the alarm's SMS in UCS-2 with its one response link; Chromium at
// phone size follows the link and taps 我去处理; the caregiver's screen (the dashboard) shows who
// accepted. Then, with nobody answering, the SMSC gets the re-page with a fresh link. A real server,
// broker and MQTT gateway; the escalation runs on a fake clock.
import type { MqttClient } from 'mqtt';
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Alarm, gatewayTopic } from '../../protocol/index.ts';
import { launchChromium, signIn as signInAt } from '../helpers/browser.ts';
import { FakeClock } from '../helpers/fake-clock.ts';
import { connectAsGateway, type DemoSite, registerSite, Screen, startTestServer, type TestServer, waitFor } from '../helpers/harness.ts';
import { type Smsc, type Submitted, startSmsc } from '../helpers/smsc.ts';

const PHONE = '+8613700000001';
const clock = new FakeClock(Date.now());
let server: TestServer;
let site: DemoSite;
let gw: MqttClient;
let smsc: Smsc;
let browser: Browser;
const contexts: BrowserContext[] = [];
let seq = 0;

/** The messages the SMSC got for one number, each reassembled from its parts (UDH order). */
function messagesTo(to: string): string[] {
  const out: string[] = [];
  let parts: Submitted[] = [];
  for (const s of smsc.submitted.filter((x) => x.to === to)) {
    parts.push(s);
    const total = s.udh?.[4] ?? 1;
    if (parts.length === total) {
      out.push(
        parts
          .sort((a, b) => (a.udh?.[5] ?? 1) - (b.udh?.[5] ?? 1))
          .map((p) => p.text)
          .join(''),
      );
      parts = [];
    }
  }
  return out;
}
const linksIn = (text: string) => text.match(/https?:\/\/[^\s]+\/r\/[A-Za-z0-9_-]+/g) ?? [];

async function raise(device: string): Promise<Alarm> {
  seq += 1;
  await gw.publishAsync(
    gatewayTopic(site.siteId, site.gatewayId, 'events'),
    JSON.stringify({ v: 1, id: `smpp-e2e-${seq}`, seq, ts: clock.iso(), device, type: 'call' }),
    { qos: 1 },
  );
  return waitFor(
    async () =>
      (await server.api<{ alarms: Alarm[] }>('GET', '/api/v1/alarms?state=active')).body.alarms.find((a) => a.deviceId === device),
    'call alarm',
  );
}

beforeAll(async () => {
  smsc = await startSmsc({ idPrefix: 'e2e' });
  // No CARE_PUBLIC_URL: the links point at the server's own address, which the test's phone reaches.
  server = await startTestServer(undefined, {
    clock,
    env: { CARE_SMS_PROVIDER: 'smpp', CARE_SMPP_URL: `smpp://care:secret@127.0.0.1:${smsc.port}`, CARE_SMS_SENDER: '10690000' },
  });
  site = await registerSite(server, [
    { id: 'btn-home', kind: 'call_button' },
    { id: 'btn-home-2', kind: 'call_button' },
  ]);
  gw = await connectAsGateway(server, site);
  await waitFor(() => smsc.sessions.length > 0, 'SMPP bind');
  browser = await launchChromium();
});
afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => {});
  await browser?.close();
  await gw?.endAsync();
  await server?.stop();
  smsc?.close();
});

describe('accepting from an SMS', () => {
  it('the SMS carries the link in UCS-2; the phone accepts; the caregiver screen shows the acceptor', async () => {
    const put = await server.api('PUT', `/api/v1/sites/${site.siteId}/escalation`, {
      levels: [
        { name: 'caregiver', timeoutSeconds: 60, contacts: [] },
        { name: 'family', timeoutSeconds: 600, contacts: [{ kind: 'sms', target: PHONE }] },
        { name: 'grid_worker', timeoutSeconds: 600, contacts: [] },
      ],
    });
    expect(put.status).toBe(200);
    const alarm = await raise('btn-home');

    // The caregiver's screen, signed in before anything is accepted.
    const desk = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
    contexts.push(desk);
    const board = await desk.newPage();
    await signInAt(board, server.url);
    const card = board.locator('[data-testid=alarm-card][data-type=call]');
    await card.waitFor({ timeout: 10_000 });
    const feed = await Screen.open(server);

    clock.advance(61_000);
    await server.tick();
    const text = await waitFor(() => messagesTo(PHONE.slice(1))[0], 'the SMS at the SMSC');
    expect(smsc.submitted.filter((s) => s.to === PHONE.slice(1)).every((s) => s.dataCoding === 8)).toBe(true);
    expect(text).toContain('紧急呼叫');
    const links = linksIn(text);
    expect(links).toHaveLength(1);
    const link = links[0] as string;
    expect(link.startsWith(`http://127.0.0.1:${server.httpPort}/r/`)).toBe(true);

    const phone = await browser.newContext({
      viewport: { width: 390, height: 844 },
      isMobile: true,
      hasTouch: true,
      locale: 'zh-CN',
      timezoneId: 'Asia/Shanghai',
    });
    contexts.push(phone);
    const page = await phone.newPage();
    expect((await page.goto(link))?.status()).toBe(200);
    await page.getByRole('button', { name: '我去处理' }).tap();
    await page.getByRole('button', { name: '已到场' }).waitFor({ timeout: 10_000 });

    // The acceptor is named by their number (an SMS contact has no other name).
    await feed.waitForAlarm((a) => a.id === alarm.id && a.state === 'acknowledged' && a.ackBy === PHONE, 'the feed shows the acceptor');
    await waitFor(async () => (await card.textContent())?.includes(PHONE), 'the board card names the acceptor', 15_000);
    feed.close();
    await server.api('POST', `/api/v1/alarms/${alarm.id}/resolve`, { outcome: 'assisted' });
  }, 120_000);

  it('nobody accepts: the SMSC gets the re-page with a fresh link', async () => {
    const put = await server.api('PUT', `/api/v1/sites/${site.siteId}/escalation`, {
      levels: [
        { name: 'caregiver', timeoutSeconds: 60, contacts: [] },
        { name: 'family', timeoutSeconds: 600, acceptSeconds: 60, repages: 1, contacts: [{ kind: 'sms', target: PHONE }] },
        { name: 'grid_worker', timeoutSeconds: 600, contacts: [] },
      ],
    });
    expect(put.status).toBe(200);
    const before = messagesTo(PHONE.slice(1)).length;
    await raise('btn-home-2');
    clock.advance(61_000);
    await server.tick();
    const first = await waitFor(() => messagesTo(PHONE.slice(1))[before], 'the first SMS');
    clock.advance(61_000);
    await server.tick();
    const again = await waitFor(() => messagesTo(PHONE.slice(1))[before + 1], 'the re-page');
    expect(linksIn(again)).toHaveLength(1);
    expect(linksIn(again)[0]).not.toBe(linksIn(first)[0]);
    // Both links open the page: either message will do.
    for (const l of [...linksIn(first), ...linksIn(again)]) expect((await fetch(l)).status).toBe(200);
  }, 60_000);
});

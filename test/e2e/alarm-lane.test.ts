// The alarm lane: escalation runs on its own timer and never waits for a notification; sending
// goes through a bounded sender with per-endpoint limits; one contact's messages are capped.
// A real server and broker, raw MQTT clients as the gateways, a fake clock for alarm time, and
// real HTTP servers on loopback: one that answers, one that accepts and never answers.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Alarm, gatewayTopic } from '../../protocol/index.ts';
import { FakeClock } from '../helpers/fake-clock.ts';
import { connectAsGateway, type DemoSite, registerSite, startTestServer, type TestServer, waitFor } from '../helpers/harness.ts';

const SECRET = 'webhook-secret-0123456789';

interface Hooks {
  server: http.Server;
  url: string;
  received: Array<{ path: string; body: string }>;
  open: number;
  maxOpen: number;
}
/** A webhook endpoint on loopback; `hang` accepts every request and never answers. */
async function hookServer(hang: boolean): Promise<Hooks> {
  const hooks: Hooks = { server: http.createServer(), url: '', received: [], open: 0, maxOpen: 0 };
  hooks.server.on('request', (req, res) => {
    hooks.open += 1;
    hooks.maxOpen = Math.max(hooks.maxOpen, hooks.open);
    res.on('close', () => {
      hooks.open -= 1;
    });
    let body = '';
    req.on('data', (c: Buffer) => {
      body += c.toString();
    });
    req.on('end', () => {
      hooks.received.push({ path: req.url ?? '', body });
      if (!hang) res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => hooks.server.listen(0, '127.0.0.1', () => r()));
  hooks.url = `http://127.0.0.1:${(hooks.server.address() as AddressInfo).port}`;
  return hooks;
}
function closeHooks(h: Hooks | undefined) {
  h?.server.closeAllConnections();
  h?.server.close();
}

let seq = 0;
async function call(gw: MqttClient, site: DemoSite, device: string, clock: FakeClock) {
  seq += 1;
  const id = `evt-${seq}-${Math.random().toString(36).slice(2)}`;
  const event = { v: 1, id, seq, ts: clock.iso(), device, type: 'call' };
  await gw.publishAsync(gatewayTopic(site.siteId, site.gatewayId, 'events'), JSON.stringify(event), { qos: 1 });
}
async function activeCalls(server: TestServer, siteId: string): Promise<Alarm[]> {
  const r = await server.api<{ alarms: Alarm[] }>('GET', `/api/v1/alarms?state=active&siteId=${siteId}&limit=2000`);
  return r.body.alarms.filter((a) => a.type === 'call' && a.siteId === siteId);
}
interface NotificationRow {
  id: string;
  alarmId: string;
  channel: string;
  target: string;
  state: string;
  attempts: number;
}
async function notifications(server: TestServer, channel: string): Promise<NotificationRow[]> {
  return (await server.api<{ notifications: NotificationRow[] }>('GET', `/api/v1/notifications?channel=${channel}`)).body.notifications;
}
const buttons = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => ({ id: `${prefix}-${i + 1}`, kind: 'call_button' }));

/** Waits (real time) for `p`, at most `ms`; says whether it finished. */
async function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((r) => {
    timer = setTimeout(() => r(false), ms);
  });
  const done = await Promise.race([p.then(() => true as const), late]);
  clearTimeout(timer);
  return done;
}

describe('an alarm lane that nothing else shares', () => {
  const clock = new FakeClock(Date.parse('2026-12-02T03:00:00.000Z'));
  let server: TestServer;
  let dead: Hooks;
  let alive: Hooks;
  let siteA: DemoSite;
  let siteB: DemoSite;
  let gwA: MqttClient;
  let gwB: MqttClient;
  const CALLS_ON_A = 32;
  /** Ticks that did not finish within 10 s of real time (the alarm lane held up). */
  let slowTicks = 0;
  async function step(ms: number) {
    clock.advance(ms);
    if (!(await within(server.tick(), 10_000))) slowTicks += 1;
  }

  beforeAll(async () => {
    dead = await hookServer(true);
    alive = await hookServer(false);
    // This test is about the sender, not the per-contact cap: every call on A reaches the dead hook.
    server = await startTestServer(undefined, { clock, env: { CARE_NOTIFY_CAP_PER_CONTACT: '1000' } });
    siteA = await registerSite(server, buttons('btn-a', CALLS_ON_A));
    siteB = await registerSite(server, [{ id: 'btn-b', kind: 'call_button' }]);
    for (const [site, hook] of [
      [siteA, `${dead.url}/a`],
      [siteB, `${alive.url}/b`],
    ] as const) {
      const put = await server.api('PUT', `/api/v1/sites/${site.siteId}/escalation`, {
        levels: [
          { name: 'caregiver', timeoutSeconds: 5, contacts: [] },
          { name: 'nurse_lead', timeoutSeconds: 3600, contacts: [{ kind: 'webhook', target: hook }] },
        ],
        webhookSecret: SECRET,
      });
      expect(put.status).toBe(200);
    }
    gwA = await connectAsGateway(server, siteA);
    gwB = await connectAsGateway(server, siteB);
  }, 60_000);
  afterAll(async () => {
    await gwA?.endAsync();
    await gwB?.endAsync();
    await server?.stop();
    closeHooks(dead);
    closeHooks(alive);
  }, 60_000);

  it("another site's call escalates within 1 s of its timeout while 30+ webhooks hang, and its webhook is delivered at once", async () => {
    for (let i = 1; i <= CALLS_ON_A; i += 1) await call(gwA, siteA, `btn-a-${i}`, clock);
    await waitFor(async () => (await activeCalls(server, siteA.siteId)).length === CALLS_ON_A, `${CALLS_ON_A} calls on A`, 20_000);

    // A's calls escalate; their webhooks go to an endpoint that never answers.
    await step(6_000);
    await waitFor(
      async () => (await activeCalls(server, siteA.siteId)).every((a) => a.escalationLevel === 1),
      "A's calls escalated",
      20_000,
    );
    await waitFor(() => dead.received.length >= 4, 'webhooks hanging on the dead endpoint');
    // The first attempts run out of time and are retried: let some reach their retry.
    await waitFor(
      async () => (await notifications(server, 'webhook')).filter((n) => n.target.startsWith(dead.url) && n.attempts >= 1).length >= 4,
      'first attempts to the dead endpoint timed out',
      30_000,
    );
    await step(6_000);

    // B's call: level 0 times out 5 s after it is raised.
    await call(gwB, siteB, 'btn-b', clock);
    const b = await waitFor(async () => (await activeCalls(server, siteB.siteId))[0], 'call on B');
    const dueAt = Date.parse(b.raisedAt) + 5_000;
    let crossedAt = 0;
    let escalated: Alarm | undefined;
    while (clock.now() < dueAt + 1_000 && !escalated) {
      const crosses = clock.now() < dueAt && clock.now() + 1_000 >= dueAt;
      if (crosses) crossedAt = performance.now();
      await step(1_000);
      escalated = (await activeCalls(server, siteB.siteId)).find((a) => a.id === b.id && a.escalationLevel === 1);
    }
    expect(escalated, "B's call escalated within 1 s (alarm time) of its timeout").toBeDefined();
    const wallMs = performance.now() - crossedAt;
    const history = await server.api<{ history: Array<{ action: string; at: string }> }>('GET', `/api/v1/alarms/${b.id}`);
    const at = Date.parse(history.body.history.find((e) => e.action === 'escalated')?.at ?? '');
    expect(at - dueAt).toBeLessThanOrEqual(1_000);
    // Real time from the clock reaching B's due time to B shown escalated: an escalation is a few
    // milliseconds of database work; one hanging attempt alone would be 5 s.
    expect(wallMs).toBeLessThan(2_000);

    // B's webhook, to an endpoint that answers, is delivered at once despite A's.
    const start = performance.now();
    await waitFor(() => alive.received.some((h) => h.path === '/b'), "B's webhook");
    await waitFor(
      async () => (await notifications(server, 'webhook')).find((n) => n.alarmId === b.id && n.state === 'delivered'),
      "B's webhook recorded as delivered",
    );
    expect(performance.now() - start).toBeLessThan(3_000);
    expect(JSON.parse(alive.received.find((h) => h.path === '/b')?.body ?? '{}')).toMatchObject({ level: 1, alarm: { id: b.id } });

    // The dead endpoint ties up only its own slots: 4 requests to it at once (the endpoint may see
    // a request cut off at its budget close a moment after the next one arrives), not one per call.
    expect(dead.maxOpen).toBeLessThanOrEqual(6);
    expect(slowTicks).toBe(0);
    // Nothing was marked delivered that was not: every notification to the dead endpoint is pending.
    const callsOnA = new Set((await activeCalls(server, siteA.siteId)).map((a) => a.id));
    const toDead = (await notifications(server, 'webhook')).filter((n) => callsOnA.has(n.alarmId));
    expect(toDead).toHaveLength(CALLS_ON_A);
    expect(toDead.every((n) => n.state === 'pending')).toBe(true);
  }, 120_000);
});

describe('notifications capped per contact', () => {
  const clock = new FakeClock(Date.parse('2026-12-02T03:00:00.000Z'));
  let server: TestServer;
  let hooks: Hooks;
  let site: DemoSite;
  let gw: MqttClient;
  const CAP = 3;
  const PHONE = '+8613800000001';

  beforeAll(async () => {
    hooks = await hookServer(false);
    server = await startTestServer(undefined, {
      clock,
      env: { CARE_NOTIFY_CAP_PER_CONTACT: String(CAP), CARE_NOTIFY_CAP_WINDOW_SECONDS: '600' },
    });
    site = await registerSite(server, buttons('btn-c', 9));
    const put = await server.api('PUT', `/api/v1/sites/${site.siteId}/escalation`, {
      levels: [
        { name: 'caregiver', timeoutSeconds: 5, contacts: [] },
        {
          name: 'family',
          timeoutSeconds: 3600,
          contacts: [
            { kind: 'webhook', target: `${hooks.url}/family` },
            { kind: 'sms', target: PHONE },
            // Listed twice by mistake: still one message per alarm.
            { kind: 'webhook', target: `${hooks.url}/family` },
          ],
        },
      ],
      webhookSecret: SECRET,
    });
    expect(put.status).toBe(200);
    gw = await connectAsGateway(server, site);
  }, 60_000);
  afterAll(async () => {
    await gw?.endAsync();
    await server?.stop();
    closeHooks(hooks);
  }, 60_000);

  it('a flood of calls sends one contact at most the cap and one notice in the window; the rest are recorded, not sent', async () => {
    for (let i = 1; i <= 8; i += 1) await call(gw, site, `btn-c-${i}`, clock);
    const open = await waitFor(async () => {
      const calls = await activeCalls(server, site.siteId);
      return calls.length === 8 ? calls : undefined;
    }, '8 calls');
    // Only the calls' notifications count here (a technical alarm may reach the same contact).
    const calls = new Set(open.map((a) => a.id));
    const ofCalls = async (channel: string) => (await notifications(server, channel)).filter((n) => calls.has(n.alarmId));
    const callHooks = () =>
      hooks.received
        .map((h) => JSON.parse(h.body) as { type: string; alarm: Alarm; capped?: { limit: number } })
        .filter((b) => b.alarm.type === 'call');
    clock.advance(6_000);
    await server.tick();
    await waitFor(async () => (await ofCalls('webhook')).filter((n) => n.state !== 'pending').length >= 8, 'webhooks decided');

    const webhooks = await ofCalls('webhook');
    expect(webhooks.filter((n) => n.state === 'delivered')).toHaveLength(CAP + 1);
    expect(webhooks.filter((n) => n.state === 'suppressed')).toHaveLength(8 - CAP - 1);
    await waitFor(() => callHooks().length >= CAP + 1, 'webhooks received');
    const bodies = callHooks();
    expect(bodies).toHaveLength(CAP + 1);
    // The last one sent says that more are held back; all keep the webhook's shape.
    expect(bodies.every((b) => b.type === 'alarm')).toBe(true);
    expect(bodies.filter((b) => b.capped)).toEqual([expect.objectContaining({ capped: expect.objectContaining({ limit: CAP }) })]);

    const sms = await ofCalls('sms');
    expect(sms.filter((n) => n.state === 'queued')).toHaveLength(CAP + 1);
    expect(sms.filter((n) => n.state === 'suppressed')).toHaveLength(8 - CAP - 1);

    // Each decision is in the audit log.
    const suppressed = webhooks.find((n) => n.state === 'suppressed');
    const audit = await server.api<{ entries: Array<{ action: string }> }>('GET', `/api/v1/audit?alarmId=${suppressed?.alarmId}`);
    expect(audit.body.entries.map((e) => e.action)).toContain('notify.suppressed');

    // Once the window has passed, the contact hears of the next call again.
    clock.advance(601_000);
    await server.tick();
    await call(gw, site, 'btn-c-9', clock);
    const next = await waitFor(async () => (await activeCalls(server, site.siteId)).find((a) => a.deviceId === 'btn-c-9'), 'ninth call');
    clock.advance(6_000);
    await server.tick();
    await waitFor(
      async () => (await notifications(server, 'webhook')).find((n) => n.alarmId === next.id && n.state === 'delivered'),
      'ninth call notified',
    );
    expect(callHooks()).toHaveLength(CAP + 2);
  }, 60_000);
});

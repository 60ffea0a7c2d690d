// Two server instances on one real PostgreSQL (Debian's package), each with its own embedded
// broker: alarm changes cross them by LISTEN/NOTIFY, caches are cleared by the other's writes,
// timers are rows both instances race for (each fires once), and a caregiver's screen on one
// instance counts for shift coverage on the other. One fake clock drives both.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { MqttClient } from 'mqtt';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Alarm, gatewayTopic } from '../../protocol/index.ts';
import { FakeClock } from '../helpers/fake-clock.ts';
import { connectAsGateway, type DemoSite, registerSite, Screen, startTestServer, type TestServer, waitFor } from '../helpers/harness.ts';
import { type Postgres, postgresBin, startPostgres } from '../helpers/postgres.ts';
import { requireComponent } from '../helpers/require-component.ts';

const available = requireComponent('postgresql', postgresBin() !== null);

describe.skipIf(!available)('two instances on PostgreSQL, a broker each (LISTEN/NOTIFY)', () => {
  const clock = new FakeClock(Date.parse('2026-11-23T04:00:00.000Z'));
  let pgServer: Postgres;
  let a: TestServer;
  let b: TestServer;
  let site: DemoSite;
  let gw: MqttClient;
  const cmds: Array<{ type: string; alarmId?: string }> = [];
  const hooks: string[] = [];
  let hookStatus = 500;
  /** A slow hook holds the attempt open, so both instances look for due retries while it runs. */
  let hookDelayMs = 0;
  let hookServer: http.Server;
  let seq = 0;

  async function publishEvent(device: string, type: string) {
    seq += 1;
    const e = { v: 1, id: `evt-${seq}-${Math.random().toString(36).slice(2)}`, seq, ts: clock.iso(), device, type };
    await gw.publishAsync(gatewayTopic(site.siteId, site.gatewayId, 'events'), JSON.stringify(e), { qos: 1 });
  }
  const busIn = async (s: TestServer) => {
    const text = await (await fetch(`${s.url}/metrics`)).text();
    return Number(/care_cluster_bus_messages_total\{direction="in"\} (\d+)/.exec(text)?.[1] ?? 0);
  };
  const audit = async (alarmId: string) =>
    (await b.api<{ entries: Array<{ action: string; detail: { level?: number } | null }> }>('GET', `/api/v1/audit?alarmId=${alarmId}`)).body
      .entries;

  beforeAll(async () => {
    hookServer = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        hooks.push(String(req.url));
        setTimeout(() => res.writeHead(hookStatus).end(), hookDelayMs);
      });
    });
    await new Promise<void>((r) => hookServer.listen(0, '127.0.0.1', () => r()));
    pgServer = await startPostgres();
    const env = { CARE_DATABASE_URL: pgServer.url };
    a = await startTestServer(undefined, { env, clock });
    b = await startTestServer(undefined, { env, clock });
    site = await registerSite(a);
    gw = await connectAsGateway(a, site);
    gw.on('message', (_t, p) => cmds.push(JSON.parse(String(p))));
    await gw.subscribeAsync(gatewayTopic(site.siteId, site.gatewayId, 'cmd'), { qos: 1 });
  }, 120_000);
  afterAll(async () => {
    await gw?.endAsync();
    await a?.stop();
    await b?.stop();
    pgServer?.stop();
    hookServer?.close();
  });

  it('an alarm raised on A shows on B, and acknowledging it on B reaches the gateway on A once', async () => {
    const screenB = await Screen.open(b);
    await publishEvent('btn-203', 'call');
    const raised = await screenB.waitForAlarm((x) => x.type === 'call' && x.state === 'active', 'call alarm on B');
    expect(raised).toMatchObject({ gatewayId: site.gatewayId, priority: 'high' });
    const ack = await b.api<Alarm>('POST', `/api/v1/alarms/${raised.id}/ack`);
    expect(ack.status).toBe(200);
    await waitFor(() => cmds.some((c) => c.type === 'alarm_ack' && c.alarmId === raised.id), 'alarm_ack at the gateway on A');
    // B's broker has no such gateway; only A's told it, and only once.
    expect(cmds.filter((c) => c.type === 'alarm_ack' && c.alarmId === raised.id)).toHaveLength(1);
    await b.api('POST', `/api/v1/alarms/${raised.id}/resolve`, { note: 'test' });
    screenB.close();
  });

  it('a screen that moves to the other instance with since= gets a snapshot, never a catch-up in foreign numbering', async () => {
    const onA = await Screen.open(a);
    const seenOnA = onA.lastSeq;
    onA.close();
    await publishEvent('btn-203', 'tamper');
    await waitFor(
      async () => (await b.api<{ alarms: Alarm[] }>('GET', '/api/v1/alarms?state=active')).body.alarms.some((x) => x.type === 'tamper'),
      'tamper alarm committed',
    );
    const onB = await Screen.open(b, seenOnA);
    await waitFor(() => onB.messages.some((m) => m.type === 'snapshot'), 'snapshot from B');
    const snapshot = onB.messages.find((m) => m.type === 'snapshot');
    expect(snapshot?.type === 'snapshot' && snapshot.alarms.some((x) => x.type === 'tamper')).toBe(true);
    onB.close();
  });

  it("the bus's PostgreSQL connection cut: it comes back, screens resync, and alarms cross again", async () => {
    const screenB = await Screen.open(b);
    const gaps = async (s: TestServer) =>
      Number(/care_cluster_bus_gaps_total (\d+)/.exec(await (await fetch(`${s.url}/metrics`)).text())?.[1] ?? 0);
    const [gapsA, gapsB] = [await gaps(a), await gaps(b)];
    const admin = new pg.Client({ connectionString: pgServer.url });
    await admin.connect();
    const cut = await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'care-bus'");
    await admin.end();
    expect(cut.rowCount).toBe(2); // one listener per instance
    await waitFor(async () => (await gaps(a)) > gapsA && (await gaps(b)) > gapsB, 'both buses back');
    await waitFor(() => screenB.messages.filter((m) => m.type === 'snapshot').length >= 2, 'screen on B resynced');
    expect((await fetch(`${b.url}/readyz`)).status).toBe(200);
    await publishEvent('btn-203', 'tamper');
    await screenB.waitForAlarm((x) => x.type === 'tamper' && x.count >= 2, 'an alarm raised on A after the cut, on B');
    screenB.close();
  });

  it('a device test started on B that no device answers fails once, across both instances', async () => {
    expect((await b.api('POST', '/api/v1/devices/bed-203/test', { windowSeconds: 60 })).status).toBe(201);
    clock.advance(61_000);
    await Promise.all([a.tick(), b.tick(), a.tick(), b.tick()]);
    const faults = (await b.api<{ alarms: Alarm[] }>('GET', '/api/v1/alarms?state=active')).body.alarms.filter(
      (x) => x.type === 'device_fault' && x.deviceId === 'bed-203',
    );
    expect(faults).toHaveLength(1);
    expect(faults[0]?.count).toBe(1);
    const tests = await b.api<{ tests: Array<{ result: string }> }>('GET', '/api/v1/devices/bed-203/tests');
    expect(tests.body.tests.map((t) => t.result)).toEqual(['failed']);
  });

  it('an escalation chain set on B is used by A; each timer fires once across both; B carries on when A is gone', async () => {
    const port = (hookServer.address() as AddressInfo).port;
    const before = await busIn(a);
    const put = await b.api('PUT', `/api/v1/sites/${site.siteId}/escalation`, {
      levels: [
        { name: 'caregiver', timeoutSeconds: 45, contacts: [] },
        { name: 'nurse_lead', timeoutSeconds: 90, contacts: [{ kind: 'webhook', target: `http://127.0.0.1:${port}/lead` }] },
        { name: 'family', timeoutSeconds: 300, contacts: [{ kind: 'webhook', target: `http://127.0.0.1:${port}/family` }] },
      ],
      webhookSecret: 'webhook-secret-0123456789',
    });
    expect(put.status).toBe(200);
    // A hears of the write and reads the policy afresh before the alarm it raises uses it.
    await waitFor(async () => (await busIn(a)) > before, 'A told of the change');
    await publishEvent('radar-203', 'fall');
    const fall = await waitFor(
      async () => (await b.api<{ alarms: Alarm[] }>('GET', '/api/v1/alarms?state=active')).body.alarms.find((x) => x.type === 'fall'),
      'fall alarm',
    );
    const tickBoth = () => Promise.all([a.tick(), b.tick(), a.tick(), b.tick()]);
    clock.advance(44_000);
    await tickBoth();
    expect((await audit(fall.id)).filter((e) => e.action === 'escalated')).toHaveLength(0);
    clock.advance(2_000); // 46 s: past this site's 45 s (the default chain would wait longer)
    await tickBoth();
    await waitFor(() => hooks.length >= 1, 'nurse lead webhook');
    expect((await audit(fall.id)).filter((e) => e.action === 'escalated').map((e) => e.detail?.level)).toEqual([1]);

    // The hook answered 500. Both instances find the retry due; one of them sends it.
    hookDelayMs = 500;
    clock.advance(6_000);
    await tickBoth();
    await waitFor(() => hooks.length >= 2, 'webhook retried');
    await tickBoth();
    expect(hooks).toEqual(['/lead', '/lead']);

    // A goes away; B alone moves the alarm on when the next level's time is up.
    hookStatus = 200;
    hookDelayMs = 0;
    await a.stop();
    clock.advance(91_000);
    await b.tick();
    await waitFor(() => hooks.includes('/family'), 'family webhook from B');
    expect(
      (await audit(fall.id))
        .filter((e) => e.action === 'escalated')
        .map((e) => e.detail?.level)
        .sort(),
    ).toEqual([1, 2]);
    expect(hooks.filter((h) => h === '/family')).toHaveLength(1);
  });

  it("a caregiver's screen open on B counts for the shift's coverage on every instance", async () => {
    // A has stopped: start a fresh instance on the same database (and clock) in its place.
    a = await startTestServer(undefined, { env: { CARE_DATABASE_URL: pgServer.url }, clock });
    const carer = await b.api<{ id: string }>('POST', '/api/v1/users', {
      username: 'night-carer',
      password: 'a long enough password',
      role: 'caregiver',
      siteId: site.siteId,
    });
    const token = (
      await b.api<{ token: string }>('POST', '/api/v1/auth/login', { username: 'night-carer', password: 'a long enough password' }, '')
    ).body.token;
    const start = new Date(clock.now() - 3600_000).toISOString();
    const end = new Date(clock.now() + 8 * 3600_000).toISOString();
    expect((await b.api('POST', '/api/v1/shifts', { siteId: site.siteId, userId: carer.body.id, start, end })).status).toBe(201);
    const screen = await Screen.open(b, undefined, token);
    const noCaregiver = async () =>
      (await b.api<{ alarms: Alarm[] }>('GET', '/api/v1/alarms?state=active')).body.alarms.filter((x) => x.type === 'no_caregiver');
    for (let i = 0; i < 6; i += 1) {
      const heard = await busIn(a);
      await b.tick(); // B says who has a screen open on it
      await waitFor(async () => (await busIn(a)) > heard, 'A heard B');
      await a.tick();
      clock.advance(30_000); // three minutes in all: past the two-minute grace
    }
    expect(await noCaregiver()).toHaveLength(0);
    // The screen closes: after the grace time, both agree nobody is watching.
    screen.close();
    for (let i = 0; i < 6; i += 1) {
      await b.tick();
      await a.tick();
      clock.advance(30_000);
    }
    await a.tick();
    await waitFor(async () => (await noCaregiver()).length === 1, 'no_caregiver raised once');
  });
});

// Bulkheads between gateways and sites (issue 14, items 1, 2 and 8): one event that cannot be
// stored or evaluated, one gateway inventing thousands of devices, or one gateway reusing another's
// event ids never costs another gateway's or another site's alarm. Real server, real Aedes on a
// real port, real MQTT clients and WebSocket screens; the database fault is a trigger installed in
// the server's real database (SQLite, and PostgreSQL from Debian's package).
import path from 'node:path';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Alarm, gatewayTopic } from '../../protocol/index.ts';
import { connectAsGateway, type DemoSite, registerSite, Screen, startTestServer, type TestServer, waitFor } from '../helpers/harness.ts';
import { type Postgres, startPostgres } from '../helpers/postgres.ts';

const PASSWORD = 'caregiver-password-1';

/** A raw gateway client that records every event id the server confirmed to it. */
async function gatewayClient(server: TestServer, site: DemoSite) {
  const client = await connectAsGateway(server, site);
  const confirmed = new Set<string>();
  const cmd = gatewayTopic(site.siteId, site.gatewayId, 'cmd');
  client.on('message', (t, p) => {
    if (t !== cmd) return;
    const m = JSON.parse(String(p)) as { type: string; ids?: string[] };
    if (m.type === 'committed') for (const id of m.ids ?? []) confirmed.add(id);
  });
  await client.subscribeAsync(cmd, { qos: 1 });
  const topic = gatewayTopic(site.siteId, site.gatewayId, 'events');
  let seq = 0;
  const send = (id: string, device: string, type: string, data?: unknown) => {
    seq += 1;
    const payload = `{"v":1,"id":"${id}","seq":${seq},"ts":"${new Date().toISOString()}","device":"${device}","type":"${type}"${
      data === undefined ? '' : `,"data":${typeof data === 'string' ? data : JSON.stringify(data)}`
    }}`;
    return client.publishAsync(topic, payload, { qos: 1 });
  };
  return { client, confirmed, send };
}

async function metric(server: TestServer, name: string, labels: string): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`) && l.includes(labels))
    .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
}

/** `{"x":{"a":{"a":...}}}` nested `depth` levels, as text (JSON.stringify itself would overflow). */
const deepData = (depth: number) => `{"x":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}}`;

async function caregiverOf(server: TestServer, site: DemoSite, username: string): Promise<string> {
  const created = await server.api('POST', '/api/v1/users', { username, password: PASSWORD, role: 'caregiver', siteId: site.siteId });
  expect(created.status).toBe(201);
  const login = await server.api<{ token: string }>('POST', '/api/v1/auth/login', { username, password: PASSWORD });
  return login.body.token;
}

/** Two sites on `server`, a fall detector's and a call button's, each with its gateway connected. */
async function twoGateways(server: TestServer) {
  const first = await registerSite(server, [{ id: 'radar-a', kind: 'fall_detector' }]);
  const second = await registerSite(server, [{ id: 'btn-b', kind: 'call_button' }]);
  return { a: await gatewayClient(server, first), b: await gatewayClient(server, second) };
}

describe('one event that cannot be stored never costs another gateway its events', () => {
  let server: TestServer;
  let a: Awaited<ReturnType<typeof gatewayClient>>;
  let b: Awaited<ReturnType<typeof gatewayClient>>;

  beforeAll(async () => {
    server = await startTestServer();
    ({ a, b } = await twoGateways(server));
  }, 60_000);
  afterAll(async () => {
    await a?.client.endAsync();
    await b?.client.endAsync();
    await server?.stop();
  });

  it("data nested 10,000 levels every 10 ms is refused; the other gateway's calls are all stored and confirmed", async () => {
    const refused = async () =>
      (await metric(server, 'care_ingest_rejected_total', 'reason="too_deep"')) +
      (await metric(server, 'care_ingest_rejected_total', 'reason="too_large"'));
    const before = await refused();
    const poison = deepData(10_000);
    let flooding = true;
    let n = 0;
    const flood = (async () => {
      while (flooding) {
        n += 1;
        // Several per tick, so the poison shares the server's batches with the other gateway's calls.
        void a.send(`deep-${n}-1`, 'radar-a', 'presence', poison);
        void a.send(`deep-${n}-2`, 'radar-a', 'presence', poison);
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    await waitFor(() => n > 20, 'flood under way');
    const calls = Array.from({ length: 30 }, (_, i) => `call-b-${i}`);
    for (const id of calls) {
      void b.send(id, 'btn-b', 'call');
      await new Promise((r) => setTimeout(r, 7));
    }
    try {
      await waitFor(() => calls.every((id) => b.confirmed.has(id)), "every one of the other gateway's calls confirmed", 15_000);
    } finally {
      flooding = false;
      await flood;
    }
    const call = (await server.api<{ alarms: Alarm[] }>('GET', '/api/v1/alarms')).body.alarms.find((x) => x.deviceId === 'btn-b');
    expect(call).toMatchObject({ type: 'call', priority: 'high', count: calls.length });
    expect(await refused()).toBeGreaterThanOrEqual(before + 2 * n);
  }, 60_000);

  it('data nested deeper than 16 levels, or with more than 1,000 values, is refused with its reason and counted', async () => {
    const deep = await metric(server, 'care_ingest_rejected_total', 'reason="too_deep"');
    const large = await metric(server, 'care_ingest_rejected_total', 'reason="too_large"');
    await a.send('deep-17', 'radar-a', 'presence', deepData(17));
    await a.send('wide-1', 'radar-a', 'presence', { list: Array.from({ length: 1200 }, (_, i) => i) });
    await a.send('fine-16', 'radar-a', 'presence', deepData(15));
    await waitFor(() => a.confirmed.has('fine-16'), 'data nested 16 levels accepted');
    await waitFor(async () => (await metric(server, 'care_ingest_rejected_total', 'reason="too_large"')) === large + 1, 'wide refused');
    expect(await metric(server, 'care_ingest_rejected_total', 'reason="too_deep"')).toBe(deep + 1);
    expect(a.confirmed.has('deep-17') || a.confirmed.has('wide-1')).toBe(false);
  });
});

/**
 * Installs a database fault: inserting an event from device `poison-dev` fails inside the shared
 * batch transaction, exactly as an exception while storing any one event would.
 */
const faults = {
  async sqlite(server: TestServer) {
    const db = new SQLite(path.join(server.dataDir, 'care.db'));
    db.pragma('busy_timeout = 5000');
    db.exec(
      "CREATE TRIGGER poison_event BEFORE INSERT ON events WHEN NEW.device_id = 'poison-dev' BEGIN SELECT RAISE(ABORT, 'injected fault'); END",
    );
    db.close();
  },
  async postgres(_server: TestServer, url: string) {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query(`CREATE FUNCTION poison_event() RETURNS trigger AS $$
      BEGIN IF NEW.device_id = 'poison-dev' THEN RAISE EXCEPTION 'injected fault'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql`);
    await client.query('CREATE TRIGGER poison_event BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION poison_event()');
    await client.end();
  },
};

describe.each(['sqlite', 'postgres'] as const)('each event in its own savepoint (%s)', (engine) => {
  let pgServer: Postgres | null = null;
  let server: TestServer;
  let hostile: DemoSite;
  let victim: DemoSite;
  let a: Awaited<ReturnType<typeof gatewayClient>>;
  let b: Awaited<ReturnType<typeof gatewayClient>>;

  beforeAll(async () => {
    // A missing PostgreSQL fails here, never skips.
    if (engine === 'postgres') pgServer = await startPostgres();
    server = await startTestServer(undefined, { env: pgServer ? { CARE_DATABASE_URL: pgServer.url } : {} });
    hostile = await registerSite(server, [{ id: 'radar-a', kind: 'fall_detector' }]);
    victim = await registerSite(server, [{ id: 'btn-b', kind: 'call_button' }]);
    a = await gatewayClient(server, hostile);
    b = await gatewayClient(server, victim);
    await (engine === 'sqlite' ? faults.sqlite(server) : faults.postgres(server, pgServer?.url as string));
  }, 120_000);
  afterAll(async () => {
    await a?.client.endAsync();
    await b?.client.endAsync();
    await server?.stop();
    pgServer?.stop();
  });

  it('an event whose storing throws rolls back alone: every other event in its batch commits, and it is refused after 3 deliveries, not resent forever', async () => {
    const calls: string[] = [];
    const mine: string[] = [];
    // Interleaved, unawaited: the server batches them together.
    for (let i = 0; i < 30; i += 1) {
      void a.send(`poison-${i}`, 'poison-dev', 'fall');
      void a.send(`fine-a-${i}`, 'radar-a', 'presence');
      void b.send(`call-${i}`, 'btn-b', 'call');
      calls.push(`call-${i}`);
      mine.push(`fine-a-${i}`);
    }
    await waitFor(() => calls.every((id) => b.confirmed.has(id)), "every one of the other gateway's calls confirmed", 20_000);
    await waitFor(() => mine.every((id) => a.confirmed.has(id)), "the same gateway's good events confirmed", 20_000);
    const alarms = (await server.api<{ alarms: Alarm[] }>('GET', '/api/v1/alarms')).body.alarms;
    expect(alarms.find((x) => x.deviceId === 'btn-b')).toMatchObject({ type: 'call', count: 30 });
    // A database error might pass next time: left unconfirmed for the gateway's resend...
    expect(a.confirmed.has('poison-0')).toBe(false);
    expect(alarms.find((x) => x.deviceId === 'poison-dev')).toBeUndefined();
    // ...and refused (confirmed, audited, counted) on its third failed delivery.
    const refusedBefore = await metric(server, 'care_ingest_rejected_total', 'reason="processing_error"');
    await a.send('poison-0', 'poison-dev', 'fall');
    await a.send('poison-0', 'poison-dev', 'fall');
    await waitFor(() => a.confirmed.has('poison-0'), 'poison event confirmed as refused');
    expect(await metric(server, 'care_ingest_rejected_total', 'reason="processing_error"')).toBe(refusedBefore + 1);
  }, 90_000);
});

// On SQLite with more made-up alarms than a snapshot (2,000) holds; on PostgreSQL with fewer, for
// the same queries on the other engine.
describe.each([
  { engine: 'sqlite', flood: 2_100 },
  { engine: 'postgres', flood: 150 },
] as const)("made-up devices from one gateway hide no one else's alarms ($engine)", ({ engine, flood: FLOOD }) => {
  const BUDGET = 20;
  let pgServer: Postgres | null = null;
  let server: TestServer;
  let hostile: DemoSite;
  let victim: DemoSite;
  let a: Awaited<ReturnType<typeof gatewayClient>>;
  let b: Awaited<ReturnType<typeof gatewayClient>>;
  let victimToken: string;
  let realCall: Alarm;

  beforeAll(async () => {
    if (engine === 'postgres') pgServer = await startPostgres();
    server = await startTestServer(undefined, {
      env: { CARE_UNREGISTERED_ALARM_BUDGET: String(BUDGET), ...(pgServer ? { CARE_DATABASE_URL: pgServer.url } : {}) },
    });
    hostile = await registerSite(server, [{ id: 'radar-a', kind: 'fall_detector' }]);
    victim = await registerSite(server, [
      { id: 'btn-b', kind: 'call_button' },
      { id: 'bed-b', kind: 'bed_sensor' },
    ]);
    a = await gatewayClient(server, hostile);
    b = await gatewayClient(server, victim);
    victimToken = await caregiverOf(server, victim, 'carer-b');
    // The victim site's real alarms first: a call (high) and a technical one (low).
    await b.send('real-call', 'btn-b', 'call');
    await b.send('real-battery', 'bed-b', 'low_battery');
    await waitFor(() => b.confirmed.has('real-call') && b.confirmed.has('real-battery'), 'real alarms stored');
    realCall = (await server.api<{ alarms: Alarm[] }>('GET', '/api/v1/alarms')).body.alarms.find((x) => x.deviceId === 'btn-b') as Alarm;
    // Then the flood: falls from 2,100 device ids nobody registered.
    const ids = Array.from({ length: FLOOD }, (_, i) => `flood-${i}`);
    for (const [i, id] of ids.entries()) void a.send(id, `ghost-${i}`, 'fall');
    await waitFor(() => ids.every((id) => a.confirmed.has(id)), 'flood stored', 90_000);
  }, 180_000);
  afterAll(async () => {
    await a?.client.endAsync();
    await b?.client.endAsync();
    await server?.stop();
    pgServer?.stop();
  });

  it('past the budget the gateway gets one summarising alarm, counted, and every event is still stored', async () => {
    const all = (await server.api<{ alarms: Alarm[] }>('GET', '/api/v1/alarms?open=true&limit=2000')).body.alarms;
    const own = all.filter((x) => x.gatewayId === hostile.gatewayId);
    expect(own.filter((x) => x.type === 'fall' && x.unregistered)).toHaveLength(BUDGET);
    const summary = own.filter((x) => x.type === 'unregistered_devices');
    expect(summary).toHaveLength(1);
    expect(summary[0]).toMatchObject({
      priority: 'high',
      count: FLOOD - BUDGET,
      deviceId: null,
      siteId: hostile.siteId,
      unregistered: true,
    });
    expect(await metric(server, 'care_ingest_events_total', 'outcome="stored"')).toBeGreaterThanOrEqual(FLOOD + 2);
  });

  it("the victim site's caregiver still sees its real alarms on the screen's snapshot and in GET /alarms", async () => {
    const screen = await Screen.open(server, undefined, victimToken);
    const snapshot = screen.messages.find((m) => m.type === 'snapshot');
    expect(snapshot?.type === 'snapshot' && snapshot.alarms.map((x) => x.id)).toContain(realCall.id);
    screen.close();
    const listed = await server.api<{ alarms: Alarm[] }>('GET', '/api/v1/alarms', undefined, victimToken);
    expect(listed.body.alarms.map((x) => x.deviceId).sort()).toEqual(['bed-b', 'btn-b']);
    // And an admin's snapshot, across all sites, holds every active high-priority alarm.
    const admin = await Screen.open(server);
    const all = admin.messages.find((m) => m.type === 'snapshot');
    expect(all?.type === 'snapshot' && all.alarms.map((x) => x.id)).toContain(realCall.id);
    admin.close();
  });

  it('GET /alarms always holds every active high-priority alarm and pages the rest with `before`', async () => {
    // Lesser alarms to page through: technical ones from registered devices on both sites.
    for (const [i, type] of ['tamper', 'device_fault'].entries()) {
      await b.send(`tech-b-${i}`, 'btn-b', type);
      await a.send(`tech-a-${i}`, 'radar-a', type);
    }
    await waitFor(() => a.confirmed.has('tech-a-1') && b.confirmed.has('tech-b-1'), 'technical alarms stored');
    const seen = new Map<string, Alarm>();
    let page = await server.api<{ alarms: Alarm[]; next?: string }>('GET', '/api/v1/alarms?limit=2');
    const highs = page.body.alarms.filter((x) => x.priority === 'high' && x.state === 'active');
    expect(highs.length).toBe(BUDGET + 2); // the flood's budget, its summary, the real call
    expect(page.body.alarms.length - highs.length).toBe(2);
    for (let pages = 1; ; pages += 1) {
      for (const x of page.body.alarms) {
        expect(seen.has(x.id)).toBe(false);
        seen.set(x.id, x);
      }
      if (!page.body.next) break;
      expect(pages).toBeLessThan(10);
      page = await server.api('GET', `/api/v1/alarms?limit=2&before=${page.body.next}`);
      expect(page.status).toBe(200);
      expect(page.body.alarms.every((x) => !(x.priority === 'high' && x.state === 'active'))).toBe(true);
    }
    const everything = (await server.api<{ alarms: Alarm[] }>('GET', '/api/v1/alarms?limit=2000')).body.alarms;
    expect([...seen.keys()].sort()).toEqual(everything.map((x) => x.id).sort());
    expect((await server.api('GET', '/api/v1/alarms?before=not-a-cursor')).status).toBe(400);
  });
});

describe('event ids are de-duplicated per gateway', () => {
  let server: TestServer;
  let a: Awaited<ReturnType<typeof gatewayClient>>;
  let b: Awaited<ReturnType<typeof gatewayClient>>;

  beforeAll(async () => {
    server = await startTestServer();
    ({ a, b } = await twoGateways(server));
  }, 60_000);
  afterAll(async () => {
    await a?.client.endAsync();
    await b?.client.endAsync();
    await server?.stop();
  });

  it("another gateway's call reusing an event id is stored and alarmed; the same gateway's repeat is still stored once", async () => {
    await a.send('01SAMEID', 'radar-a', 'presence');
    await waitFor(() => a.confirmed.has('01SAMEID'), 'first gateway confirmed');
    await b.send('01SAMEID', 'btn-b', 'call');
    await waitFor(() => b.confirmed.has('01SAMEID'), 'second gateway confirmed');
    const call = await waitFor(
      async () => (await server.api<{ alarms: Alarm[] }>('GET', '/api/v1/alarms')).body.alarms.find((x) => x.deviceId === 'btn-b'),
      "the second gateway's call alarm",
    );
    expect(call).toMatchObject({ type: 'call', count: 1 });
    const duplicates = await metric(server, 'care_ingest_events_total', 'outcome="duplicate"');
    b.confirmed.clear();
    await b.send('01SAMEID', 'btn-b', 'call');
    await waitFor(() => b.confirmed.has('01SAMEID'), 'repeat confirmed');
    expect(await metric(server, 'care_ingest_events_total', 'outcome="duplicate"')).toBe(duplicates + 1);
    const again = (await server.api<{ alarms: Alarm[] }>('GET', '/api/v1/alarms')).body.alarms.find((x) => x.deviceId === 'btn-b');
    expect(again?.count).toBe(1);
  });
});

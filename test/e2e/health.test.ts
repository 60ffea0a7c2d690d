// Honest health: /healthz and /readyz write to the state store and watch the alarm lane and
// ingest, so they answer 503 on a full disk (a real one: a small tmpfs holds the data directory)
// and with PostgreSQL stopped, and 200 again once the cause is gone. A scheduled task that fails
// three times in a row raises a technical alarm on every administrator's screen.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import SQLite from 'better-sqlite3';
import type { MqttClient } from 'mqtt';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Alarm, gatewayTopic } from '../../protocol/index.ts';
import { FakeClock } from '../helpers/fake-clock.ts';
import {
  connectAsGateway,
  type DemoSite,
  registerSite,
  Screen,
  startTestServer,
  type TestServer,
  tempDir,
  waitFor,
} from '../helpers/harness.ts';
import { type Postgres, startPostgres } from '../helpers/postgres.ts';

interface Health {
  status: string;
  checks: Record<string, boolean | number>;
  database?: { writeMs: number; error?: string };
  escalationSweepAgeMs?: number;
  lastCommitAgeMs?: number | null;
  ingestWaitingMs?: number | null;
  failingTasks?: Array<{ task: string; failures: number }>;
}

async function health(server: TestServer, route: '/healthz' | '/readyz' = '/healthz'): Promise<{ status: number; body: Health }> {
  const res = await fetch(`${server.url}${route}`);
  return { status: res.status, body: (await res.json()) as Health };
}

async function metric(server: TestServer, pattern: RegExp): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const m = text.match(pattern);
  return m ? Number(m[1]) : 0;
}

function publishEvent(gw: MqttClient, site: DemoSite, event: { id: string; seq: number; ts: string; device: string; type: string }) {
  return gw.publishAsync(gatewayTopic(site.siteId, site.gatewayId, 'events'), JSON.stringify({ v: 1, ...event }), { qos: 1 });
}

/** Every log line the server writes, parsed. */
function collectingLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n')) if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { lines, logger: pino({ level: 'info' }, stream) };
}

describe('health on SQLite when the disk fills up', () => {
  const mountPoint = tempDir('care-full-disk-');
  const clock = new FakeClock(Date.parse('2026-11-23T02:00:00.000Z'));
  const logs = collectingLogger();
  let server: TestServer;
  let site: DemoSite;
  let gw: MqttClient;
  const filler = path.join(mountPoint, 'filler');
  let mounted = false;

  beforeAll(async () => {
    // A real filesystem that fills up. Needs root (CI runs as root); without it this fails, not skips.
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=24m', 'tmpfs', mountPoint]);
    mounted = true;
    server = await startTestServer(path.join(mountPoint, 'data'), { clock, logger: logs.logger });
    site = await registerSite(server);
    gw = await connectAsGateway(server, site);
  }, 60_000);
  afterAll(async () => {
    await gw?.endAsync();
    await server?.stop();
    if (mounted) execFileSync('umount', ['-l', mountPoint]);
  });

  it('a working server is healthy and ready, and says how old its last sweep and commit are', async () => {
    await publishEvent(gw, site, { id: 'evt-ok-1', seq: 1, ts: clock.iso(), device: 'btn-203', type: 'call' });
    const call = await waitFor(
      async () => (await server.api<{ alarms: Alarm[] }>('GET', '/api/v1/alarms')).body.alarms.find((a) => a.type === 'call'),
      'call alarm',
    );
    // Acknowledged, so nothing is due to escalate while the disk is full below.
    await server.api('POST', `/api/v1/alarms/${call.id}/ack`);
    await server.tick();
    const h = await health(server);
    expect(h.status).toBe(200);
    expect(h.body).toMatchObject({
      status: 'ok',
      checks: { database: true, escalationSweep: true, ingest: true },
      escalationSweepAgeMs: 0,
      ingestWaitingMs: null,
    });
    expect(h.body.lastCommitAgeMs).toBeTypeOf('number');
    expect((await health(server, '/readyz')).status).toBe(200);
  });

  it('with the disk full it answers 503 within a second; the failed commit is logged with its real cause and counted once', async () => {
    // Fill the filesystem to the last block.
    const fd = fs.openSync(filler, 'w');
    try {
      for (const size of [1 << 20, 4096, 512]) {
        const chunk = Buffer.alloc(size, 1);
        for (;;) {
          try {
            fs.writeSync(fd, chunk);
          } catch (err) {
            if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
            break;
          }
        }
      }
    } finally {
      fs.closeSync(fd);
    }

    // A check within half a second of the last one shares its write.
    const h = await waitFor(
      async () => {
        const r = await health(server);
        return r.status === 503 ? r : null;
      },
      'health failing on the full disk',
      5_000,
    );
    expect(h.body).toMatchObject({ status: 'failing', checks: { database: false }, database: { error: 'SQLITE_FULL' } });
    expect((await health(server, '/readyz')).status).toBe(503);

    const before = await metric(server, /care_store_errors_total\{store="state"\} (\d+)/);
    const logged = logs.lines.length;
    await publishEvent(gw, site, { id: 'evt-full-1', seq: 2, ts: clock.iso(), device: 'radar-203', type: 'fall' });
    const failure = await waitFor(
      () => logs.lines.slice(logged).find((l) => l.msg === 'event commit failed; gateways will resend'),
      'the failed commit logged',
    );
    expect((failure.err as { code?: string }).code).toBe('SQLITE_FULL');
    expect(JSON.stringify(logs.lines)).not.toContain('cannot rollback');
    expect(await metric(server, /care_store_errors_total\{store="state"\} (\d+)/)).toBe(before + 1);

    // The event waits at the gateway; past 30 s without a commit ingest itself is reported stale.
    clock.advance(31_000);
    const stale = await health(server);
    expect(stale.status).toBe(503);
    expect(stale.body.checks.ingest).toBe(false);
    expect(stale.body.ingestWaitingMs).toBeGreaterThanOrEqual(31_000);
  });

  it('once there is space again and the gateway resends, it is healthy again and the fall is shown', async () => {
    fs.rmSync(filler);
    const writable = await waitFor(
      async () => {
        const r = await health(server);
        return r.body.checks.database ? r : null;
      },
      'the store writable again',
      5_000,
    );
    // Still failing: an event waits for its commit.
    expect(writable.status).toBe(503);
    await publishEvent(gw, site, { id: 'evt-full-1', seq: 2, ts: clock.iso(), device: 'radar-203', type: 'fall' });
    await waitFor(
      async () => (await server.api<{ alarms: Alarm[] }>('GET', '/api/v1/alarms')).body.alarms.find((a) => a.type === 'fall'),
      'fall alarm after the resend',
    );
    await server.tick();
    const h = await health(server);
    expect(h.status).toBe(200);
    expect(h.body).toMatchObject({ checks: { database: true, escalationSweep: true, ingest: true }, ingestWaitingMs: null });
    expect((await health(server, '/readyz')).status).toBe(200);
  });
});

describe('health on PostgreSQL', () => {
  let pg: Postgres;
  let server: TestServer;

  beforeAll(async () => {
    pg = await startPostgres();
    server = await startTestServer(undefined, { env: { CARE_DATABASE_URL: pg.url } });
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
    pg?.stop();
  });

  it('answers 503 while PostgreSQL is stopped and 200 once it is back', { timeout: 90_000 }, async () => {
    expect((await health(server)).status).toBe(200);
    pg.halt();
    const down = await waitFor(
      async () => {
        const h = await health(server);
        return h.status === 503 ? h : null;
      },
      'health failing without PostgreSQL',
      15_000,
    );
    expect(down.body.checks.database).toBe(false);
    expect(down.body.database?.error).toBeTruthy();
    expect((await health(server, '/readyz')).status).toBe(503);
    pg.start();
    await waitFor(async () => (await health(server)).status === 200, 'healthy with PostgreSQL back', 30_000);
  });
});

describe('a scheduled task that keeps failing', () => {
  const clock = new FakeClock(Date.parse('2026-11-23T02:00:00.000Z'));
  let server: TestServer;
  let side: SQLite.Database;

  beforeAll(async () => {
    server = await startTestServer(undefined, { clock });
    // A second connection to the server's database, as an operator's mistake or a broken upgrade would be.
    side = new SQLite(path.join(server.dataDir, 'care.db'));
    side.pragma('busy_timeout = 5000');
  });
  afterAll(async () => {
    side?.close();
    await server?.stop();
  });

  it('raises a technical alarm on every admin screen after three failures in a row, and clears it when the task runs again', async () => {
    const screen = await Screen.open(server);
    const faults = async () =>
      (await server.api<{ alarms: Alarm[] }>('GET', '/api/v1/alarms')).body.alarms.filter(
        (a) => a.type === 'device_fault' && a.deviceId === 'server:device-tests',
      );
    const storeErrors = () => metric(server, /care_store_errors_total\{store="state"\} (\d+)/);
    const before = await storeErrors();
    side.exec('ALTER TABLE device_tests RENAME TO device_tests_moved');
    await server.tick();
    await server.tick();
    const h = await health(server);
    expect(h.body.failingTasks).toEqual(expect.arrayContaining([{ task: 'device tests', failures: 2 }]));
    expect(await faults()).toEqual([]);

    await server.tick();
    const alarm = await screen.waitForAlarm((a) => a.type === 'device_fault' && a.deviceId === 'server:device-tests', 'server task alarm');
    expect(alarm).toMatchObject({ state: 'active', priority: 'high', siteId: null });
    expect(await metric(server, /care_scheduled_task_failures_total\{task="device tests"\} (\d+)/)).toBe(3);
    // A store error, counted once for each failed run.
    expect(await storeErrors()).toBe(before + 3);
    // A fourth failure does not raise a second alarm.
    await server.tick();
    expect((await faults()).length).toBe(1);

    side.exec('ALTER TABLE device_tests_moved RENAME TO device_tests');
    await server.tick();
    await screen.waitForAlarm((a) => a.id === alarm.id && a.state === 'resolved', 'server task alarm cleared');
    expect((await faults())[0]).toMatchObject({ id: alarm.id, state: 'resolved' });
    screen.close();
  });
});

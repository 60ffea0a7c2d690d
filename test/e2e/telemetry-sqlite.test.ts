// Telemetry in SQLite (the default): raw points for short ranges, bucket means for long ones,
// and pruning past the retention period. Also the batching writer every back end shares.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningGateway } from '../../gateway/gateway.ts';
import { openDatabase } from '../../server/storage/db.ts';
import { createBatchingTelemetry, type TelemetryPoint } from '../../server/storage/telemetry.ts';
import { sqlTelemetryBackend } from '../../server/storage/telemetry-sql.ts';
import {
  type DemoSite,
  quietLogger,
  registerSite,
  startTestGateway,
  startTestServer,
  type TestServer,
  tempDir,
  waitFor,
} from '../helpers/harness.ts';

let server: TestServer;
let site: DemoSite;
let gateway: RunningGateway;
const now = Date.now();

type Chart = { downsampled: number | null; points: Array<{ ts: string; value: number }> };
const chart = (fromMs: number) =>
  server.api<Chart>(
    'GET',
    `/api/v1/residents/${site.residentId}/telemetry?metric=heart_rate&from=${new Date(fromMs).toISOString()}&to=${new Date(now + 1000).toISOString()}`,
  );

beforeAll(async () => {
  server = await startTestServer();
  site = await registerSite(server);
  gateway = await startTestGateway(server, site, { telemetry: { maxBatch: 500, maxDelayMs: 50 } });
  // One reading a minute for two days: 2,880 points.
  for (let i = 0; i < 2880; i += 1) {
    gateway.sink.reading({
      device: 'radar-203',
      metric: 'heart_rate',
      value: 60 + (i % 2) * 10,
      ts: new Date(now - i * 60_000).toISOString(),
    });
  }
  await waitFor(async () => (await chart(now - 3 * 86_400_000)).body.points.length > 0, 'readings stored');
  await waitFor(async () => gateway.outboxDepth().telemetry === 0, 'telemetry delivered');
});
afterAll(async () => {
  await gateway?.stop();
  await server?.stop();
});

describe('SQLite telemetry', () => {
  it('serves an hour raw', async () => {
    await waitFor(async () => (await chart(now - 3600_000 + 1)).body.points.length === 60, 'an hour of points');
    const hour = await chart(now - 3600_000 + 1);
    expect(hour.body.downsampled).toBeNull();
  });

  it('serves a week as bucket means, at most about 1,500 points, averaging the values', async () => {
    const week = await chart(now - 7 * 86_400_000);
    expect(week.body.downsampled).toBe(Math.ceil((7 * 86_400 + 1) / 1500));
    expect(week.body.points.length).toBeLessThanOrEqual(1500);
    expect(week.body.points.length).toBeGreaterThan(100);
    const values = week.body.points.map((p) => p.value);
    // Readings alternate 60 and 70: a bucket mean lies between (an edge bucket may hold one reading).
    expect(Math.min(...values)).toBeGreaterThanOrEqual(60);
    expect(Math.max(...values)).toBeLessThanOrEqual(70);
    expect(values.filter((v) => v > 60 && v < 70).length).toBeGreaterThan(values.length * 0.9);
  });
});

const reading = (daysAgo: number, value = 97): TelemetryPoint => ({
  site_id: 's',
  device_id: 'd',
  resident_id: 'r',
  metric: 'spo2',
  value,
  ts: new Date(now - daysAgo * 86_400_000).toISOString(),
});

describe('retention', () => {
  it('prune removes readings older than the cut-off and keeps the rest', async () => {
    const opened = await openDatabase(tempDir());
    const backend = sqlTelemetryBackend(opened.db, 'sqlite');
    await backend.writeBatch([reading(100), reading(95), reading(10), reading(1)]);
    expect(await backend.prune?.(new Date(now - 90 * 86_400_000).toISOString())).toBe(2);
    const left = await opened.db.selectFrom('telemetry').select('ts').execute();
    expect(left).toHaveLength(2);
    await opened.close();
  });

  it('prunes a large backlog in several statements, and a late arrival once the rows before it have gone', async () => {
    const opened = await openDatabase(tempDir());
    const backend = sqlTelemetryBackend(opened.db, 'sqlite');
    // 5,000 old readings (more than one pruning statement takes), 2,500 newer ones, then a late
    // old one (a gateway's backlog) behind them.
    await backend.writeBatch(Array.from({ length: 5000 }, (_, i) => reading(120 - i / 1000)));
    await backend.writeBatch(Array.from({ length: 2500 }, (_, i) => reading(30 - i / 1000)));
    await backend.writeBatch([reading(100)]);
    const cutOff = (days: number) => new Date(now - days * 86_400_000).toISOString();
    expect(await backend.prune?.(cutOff(90))).toBe(5000);
    expect(await backend.prune?.(cutOff(90))).toBe(0);
    // The late reading sits behind newer ones; it goes when they do.
    expect(await backend.prune?.(cutOff(10))).toBe(2501);
    expect(await opened.db.selectFrom('telemetry').select('ts').execute()).toHaveLength(0);
    await opened.close();
  });
});

describe('raw charts past the point limit', () => {
  it('keep the newest points', async () => {
    const opened = await openDatabase(tempDir());
    const backend = sqlTelemetryBackend(opened.db, 'sqlite');
    await backend.writeBatch(Array.from({ length: 50 }, (_, i) => reading(i / 1000, i)));
    const got = await backend.query(
      { residentId: 'r', from: new Date(now - 86_400_000).toISOString(), to: new Date(now).toISOString(), limit: 10 },
      null,
    );
    expect(got.map((p) => p.value)).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
    await opened.close();
  });
});

describe('batching writer', () => {
  /** A back end that records each batch, and fails while `down`. */
  const fakeBackend = () => {
    const batches: number[][] = [];
    const state = { down: false, calls: 0 };
    return {
      batches,
      state,
      backend: {
        name: 'fake',
        async writeBatch(points: TelemetryPoint[]) {
          state.calls += 1;
          if (state.down) throw new Error('connection refused');
          batches.push(points.map((p) => p.value));
        },
        query: async () => [],
      },
    };
  };
  const values = (n: number, from = 0) => Array.from({ length: n }, (_, i) => reading(0, from + i));

  it('writes in batches of at most maxBatch, and close flushes what waits', async () => {
    const fake = fakeBackend();
    const store = createBatchingTelemetry(fake.backend, quietLogger(), () => {}, { maxBatch: 3, flushMs: 60_000 });
    store.write(values(7));
    await store.close();
    expect(fake.batches).toEqual([[0, 1, 2], [3, 4, 5], [6]]);
  });

  it('past the buffer bound, drops the oldest and counts them', async () => {
    const fake = fakeBackend();
    fake.state.down = true;
    const store = createBatchingTelemetry(fake.backend, quietLogger(), () => {}, { maxBuffered: 5, flushMs: 60_000 });
    store.write(values(4));
    store.write(values(4, 4));
    expect(store.status()).toMatchObject({ buffered: 5, dropped: 3 });
    fake.state.down = false;
    await store.close();
    expect(fake.batches.flat()).toEqual([3, 4, 5, 6, 7]);
  });

  it('while the store fails: buffers, reports it, retries with backoff, then writes the backlog in order', async () => {
    const fake = fakeBackend();
    fake.state.down = true;
    let errors = 0;
    const store = createBatchingTelemetry(fake.backend, quietLogger(), () => (errors += 1), { flushMs: 1, maxBackoffMs: 20 });
    store.write(values(3));
    await waitFor(() => fake.state.calls >= 3, 'retries while down');
    store.write(values(3, 3));
    expect(store.status()).toMatchObject({ backend: 'fake', ok: false, buffered: 6, lastError: 'connection refused' });
    expect(errors).toBeGreaterThanOrEqual(3);
    fake.state.down = false;
    await waitFor(() => store.status().ok && store.status().buffered === 0, 'backlog written');
    expect(fake.batches.flat()).toEqual([0, 1, 2, 3, 4, 5]);
    expect(store.status()).toMatchObject({ ok: true, lastError: null, dropped: 0 });
    await store.close();
  });
});

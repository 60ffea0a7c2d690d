// Telemetry in SQLite (the default): raw points for short ranges, bucket means for long ones,
// and pruning past the retention period.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningGateway } from '../../gateway/gateway.ts';
import { type DemoSite, registerSite, startTestGateway, startTestServer, type TestServer, waitFor } from '../helpers/harness.ts';

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

describe('retention', () => {
  it('prune removes readings older than the cut-off and keeps the rest', async () => {
    const { openDatabase } = await import('../../server/storage/db.ts');
    const { sqlTelemetryBackend } = await import('../../server/storage/telemetry-sql.ts');
    const { tempDir } = await import('../helpers/harness.ts');
    const opened = await openDatabase(tempDir());
    const backend = sqlTelemetryBackend(opened.db, 'sqlite');
    const p = (daysAgo: number) => ({
      site_id: 's',
      device_id: 'd',
      resident_id: 'r',
      metric: 'spo2',
      value: 97,
      ts: new Date(now - daysAgo * 86_400_000).toISOString(),
    });
    await backend.writeBatch([p(100), p(95), p(10), p(1)]);
    expect(await backend.prune?.(new Date(now - 90 * 86_400_000).toISOString())).toBe(2);
    const left = await opened.db.selectFrom('telemetry').select('ts').execute();
    expect(left).toHaveLength(2);
    await opened.close();
  });
});

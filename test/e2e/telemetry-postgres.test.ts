// Telemetry's worker thread on PostgreSQL (CARE_DATABASE_URL): it opens its own small pool, stores
// readings the charts read back, and its vitals rule raises the alarm through the main thread.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alarm } from '../../protocol/index.ts';
import { gatewayTopic } from '../../protocol/index.ts';
import { connectAsGateway, type DemoSite, registerSite, startTestServer, type TestServer, waitFor } from '../helpers/harness.ts';
import { type Postgres, postgresBin, startPostgres } from '../helpers/postgres.ts';
import { requireComponent } from '../helpers/require-component.ts';

const available = requireComponent('postgresql', postgresBin() !== null);

describe.skipIf(!available)('telemetry on PostgreSQL', () => {
  let pgServer: Postgres;
  let server: TestServer;
  let site: DemoSite;

  beforeAll(async () => {
    pgServer = await startPostgres();
    server = await startTestServer(undefined, { env: { CARE_DATABASE_URL: pgServer.url } });
    site = await registerSite(server);
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
    pgServer?.stop();
  });

  it('readings are stored and charted, and a sustained SpO2 breach raises a vitals alarm', async () => {
    const gw = await connectAsGateway(server, site);
    const t0 = Date.now() - 120_000;
    const point = (value: number, s: number) => ({ device: 'radar-203', metric: 'spo2', value, ts: new Date(t0 + s * 1000).toISOString() });
    await gw.publishAsync(
      gatewayTopic(site.siteId, site.gatewayId, 'telemetry'),
      JSON.stringify({ v: 1, ts: new Date().toISOString(), points: [point(85, 0), point(85, 30), point(85, 61)] }),
      { qos: 1 },
    );
    const from = new Date(t0 - 1000).toISOString();
    const to = new Date().toISOString();
    await waitFor(
      async () =>
        (await server.api<{ points: unknown[] }>('GET', `/api/v1/residents/${site.residentId}/telemetry?metric=spo2&from=${from}&to=${to}`))
          .body.points.length === 3,
      'three readings charted',
      30_000,
    );
    const alarm = await waitFor(
      async () => (await server.api<{ alarms: Alarm[] }>('GET', '/api/v1/alarms')).body.alarms.find((a) => a.type === 'vitals'),
      'vitals alarm',
      30_000,
    );
    expect(alarm).toMatchObject({ residentId: site.residentId, deviceId: 'radar-203', priority: 'medium' });
    await gw.endAsync();
  }, 120_000);
});

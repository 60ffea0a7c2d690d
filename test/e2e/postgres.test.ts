// The same state queries on PostgreSQL (CARE_DATABASE_URL): a real server from Debian's package,
// two server instances sharing it, the alarm flow end to end, de-duplication and escalation.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningGateway } from '../../gateway/gateway.ts';
import type { Alarm } from '../../protocol/index.ts';
import { type DemoSite, registerSite, Screen, startTestGateway, startTestServer, type TestServer, waitFor } from '../helpers/harness.ts';
import { type Postgres, postgresBin, startPostgres } from '../helpers/postgres.ts';
import { requireComponent } from '../helpers/require-component.ts';

const available = requireComponent('postgresql', postgresBin() !== null);

describe.skipIf(!available)('state on PostgreSQL', () => {
  let pgServer: Postgres;
  let a: TestServer;
  let b: TestServer;
  let site: DemoSite;
  let gateway: RunningGateway;

  beforeAll(async () => {
    pgServer = await startPostgres();
    a = await startTestServer(undefined, { env: { CARE_DATABASE_URL: pgServer.url } });
    b = await startTestServer(undefined, { env: { CARE_DATABASE_URL: pgServer.url } });
    site = await registerSite(a);
    gateway = await startTestGateway(a, site);
  }, 120_000);
  afterAll(async () => {
    await gateway?.stop();
    await a?.stop();
    await b?.stop();
    pgServer?.stop();
  });

  it('a call raises one alarm, visible through both instances, and acknowledging works', async () => {
    const screen = await Screen.open(a);
    gateway.sink.event({ device: 'btn-203', type: 'call' });
    gateway.sink.event({ device: 'btn-203', type: 'call' });
    const alarm = await screen.waitForAlarm((x) => x.type === 'call' && x.count === 2);
    expect(alarm).toMatchObject({ priority: 'high', residentName: '王秀英', unregistered: false });
    const onB = await b.api<{ alarms: Alarm[] }>('GET', '/api/v1/alarms?state=active');
    expect(onB.body.alarms.map((x) => x.id)).toContain(alarm.id);
    const ack = await b.api<Alarm>('POST', `/api/v1/alarms/${alarm.id}/ack`);
    expect(ack.body.state).toBe('acknowledged');
    await waitFor(() => gateway.outboxDepth().events === 0, 'outbox confirmed');
    screen.close();
  });

  it('the same event id twice is stored once', async () => {
    gateway.sink.event({ device: 'radar-203', type: 'fall' });
    const fall = await waitFor(
      async () => (await a.api<{ alarms: Alarm[] }>('GET', '/api/v1/alarms')).body.alarms.find((x) => x.type === 'fall'),
      'fall',
    );
    expect(fall.count).toBe(1);
    const audit = await a.api<{ entries: Array<{ action: string }> }>('GET', `/api/v1/audit?alarmId=${fall.id}`);
    expect(audit.body.entries.map((e) => e.action)).toEqual(['raised']);
  });
});

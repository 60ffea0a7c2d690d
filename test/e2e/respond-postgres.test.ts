// Response links and the response chain on PostgreSQL (CARE_DATABASE_URL): migration 0018 (links,
// the notifications' `page`), two instances sweeping the same chain on one fake clock page each
// contact once per page, and a link issued through one instance works through the other.
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Alarm, gatewayTopic } from '../../protocol/index.ts';
import { createResponseTokens } from '../../server/respond/tokens.ts';
import { type OpenedDatabase, openDatabase } from '../../server/storage/db.ts';
import { FakeClock } from '../helpers/fake-clock.ts';
import { connectAsGateway, type DemoSite, registerSite, startTestServer, type TestServer, tempDir, waitFor } from '../helpers/harness.ts';
import { type Postgres, postgresBin, startPostgres } from '../helpers/postgres.ts';
import { requireComponent } from '../helpers/require-component.ts';

const available = requireComponent('postgresql', postgresBin() !== null);
const clock = new FakeClock(Date.parse('2026-12-01T22:00:00.000Z'));

describe.skipIf(!available)('response chain on PostgreSQL', () => {
  let pg: Postgres;
  let a: TestServer;
  let b: TestServer;
  let site: DemoSite;
  let gw: MqttClient;
  let side: OpenedDatabase;

  beforeAll(async () => {
    pg = await startPostgres();
    a = await startTestServer(undefined, { clock, env: { CARE_DATABASE_URL: pg.url } });
    b = await startTestServer(undefined, { clock, env: { CARE_DATABASE_URL: pg.url } });
    site = await registerSite(a, [{ id: 'btn-pg', kind: 'call_button' }]);
    gw = await connectAsGateway(a, site);
    side = await openDatabase(tempDir(), pg.url);
  }, 120_000);
  afterAll(async () => {
    await gw?.endAsync();
    await a?.stop();
    await b?.stop();
    await side?.close();
    pg?.stop();
  });

  it('two instances re-page and hand over once; decline and accept work through either', async () => {
    const put = await a.api('PUT', `/api/v1/sites/${site.siteId}/escalation`, {
      levels: [
        { name: 'caregiver', timeoutSeconds: 60, contacts: [] },
        {
          name: 'family',
          timeoutSeconds: 900,
          acceptSeconds: 30,
          repages: 1,
          contacts: [
            { kind: 'sms', target: '+8613600000001' },
            { kind: 'sms', target: '+8613600000002' },
            { kind: 'sms', target: '+8613600000003' },
          ],
        },
      ],
      attendSeconds: 300,
    });
    expect(put.status).toBe(200);
    // b reads the chain from the shared store (as after the bus's "changed").
    await waitFor(async () => (await b.api('GET', `/api/v1/sites/${site.siteId}/escalation`)).status === 200, 'b sees the site');
    await gw.publishAsync(
      gatewayTopic(site.siteId, site.gatewayId, 'events'),
      JSON.stringify({ v: 1, id: 'pg-call-1', seq: 1, ts: clock.iso(), device: 'btn-pg', type: 'call' }),
      { qos: 1 },
    );
    const alarm = await waitFor(
      async () => (await a.api<{ alarms: Alarm[] }>('GET', '/api/v1/alarms?state=active')).body.alarms.find((x) => x.deviceId === 'btn-pg'),
      'alarm',
    );
    const pages = async () =>
      (
        await side.db
          .selectFrom('notifications')
          .select(['target', 'page'])
          .where('alarm_id', '=', alarm.id)
          .orderBy('contact_index')
          .orderBy('page')
          .execute()
      ).map((r) => `${r.target.slice(-1)}#${r.page}`);
    const both = async (ms: number) => {
      clock.advance(ms);
      await Promise.all([a.tick(), b.tick()]);
    };
    await both(61_000);
    expect(await pages()).toEqual(['1#0']);
    await both(31_000);
    expect(await pages()).toEqual(['1#0', '1#1']);
    await both(31_000);
    expect(await pages()).toEqual(['1#0', '1#1', '2#0']);

    const tokens = createResponseTokens(side.db, { publicUrl: a.url, now: () => clock.iso() });
    const second = await tokens.issue({ alarmId: alarm.id, level: 1, contact: { kind: 'sms', target: '+8613600000002', name: '二号' } });
    const declined = await b.api('POST', `/api/v1/respond/${second.token}`, { action: 'decline' }, '');
    expect(declined.status).toBe(200);
    expect(await pages()).toEqual(['1#0', '1#1', '2#0', '3#0']);
    const third = await tokens.issue({ alarmId: alarm.id, level: 1, contact: { kind: 'sms', target: '+8613600000003', name: '三号' } });
    const accepted = await a.api<Alarm>('POST', `/api/v1/respond/${third.token}`, { action: 'accept' }, '');
    expect(accepted.body).toMatchObject({ state: 'acknowledged', ackBy: '三号' });
    await both(301_000);
    // Nobody on site: back to active, once, though both instances swept.
    const history = (await a.api<{ history: Array<{ action: string }> }>('GET', `/api/v1/alarms/${alarm.id}`)).body.history;
    expect(history.filter((h) => h.action === 'reescalated')).toHaveLength(1);
    expect((await b.api<{ alarm: Alarm }>('GET', `/api/v1/alarms/${alarm.id}`)).body.alarm.state).toBe('active');
  }, 120_000);
});

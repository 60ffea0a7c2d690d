// The response chain on a real server and broker, driven by a fake clock (no sleeps): a decline
// pages the next contact at once, no answer re-pages then hands over to the next level, and an
// alarm accepted but never attended is escalated again. Links are issued on a second connection
// to the server's own SQLite file, as the channels do when they send a message.
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Alarm, gatewayTopic } from '../../protocol/index.ts';
import { createResponseTokens, type ResponseContact } from '../../server/respond/tokens.ts';
import { type OpenedDatabase, openDatabase } from '../../server/storage/db.ts';
import { FakeClock } from '../helpers/fake-clock.ts';
import { connectAsGateway, type DemoSite, registerSite, Screen, startTestServer, type TestServer, waitFor } from '../helpers/harness.ts';

const clock = new FakeClock(Date.parse('2026-12-01T13:00:00.000Z'));
let s: TestServer;
let site: DemoSite;
let gw: MqttClient;
let side: OpenedDatabase;
let tokens: ReturnType<typeof createResponseTokens>;
let seq = 0;

const daughter: ResponseContact = { kind: 'sms', target: '+8613900000001', name: '张女士' };
const son: ResponseContact = { kind: 'sms', target: '+8613900000002', name: '张先生' };
const grid: ResponseContact = { kind: 'sms', target: '+8613900000003', name: '网格员刘' };

async function raise(device: string): Promise<Alarm> {
  seq += 1;
  await gw.publishAsync(
    gatewayTopic(site.siteId, site.gatewayId, 'events'),
    JSON.stringify({ v: 1, id: `chain-${seq}`, seq, ts: clock.iso(), device, type: 'call' }),
    { qos: 1 },
  );
  return waitFor(
    async () => (await s.api<{ alarms: Alarm[] }>('GET', '/api/v1/alarms?state=active')).body.alarms.find((a) => a.deviceId === device),
    'alarm',
  );
}
async function alarm(id: string) {
  return (await s.api<{ alarm: Alarm }>('GET', `/api/v1/alarms/${id}`)).body.alarm;
}
/** What the chain has paged for an alarm: target and page, oldest first. */
async function pages(alarmId: string) {
  const rows = await side.db
    .selectFrom('notifications')
    .select(['level', 'target', 'page', 'created_at'])
    .where('alarm_id', '=', alarmId)
    .orderBy('created_at')
    .orderBy('contact_index')
    .orderBy('page')
    .execute();
  return rows.map((r) => `${r.level}:${r.target}#${r.page}`);
}
async function advance(ms: number) {
  clock.advance(ms);
  await s.tick();
}
const respond = (token: string, body: object) => s.api<Alarm & { you: { state: string } }>('POST', `/api/v1/respond/${token}`, body, '');

async function policy(levels: object[], extra: object = {}) {
  const r = await s.api('PUT', `/api/v1/sites/${site.siteId}/escalation`, { levels, ...extra });
  expect(r.status).toBe(200);
}

beforeAll(async () => {
  s = await startTestServer(undefined, { clock });
  site = await registerSite(s, [
    { id: 'btn-a', kind: 'call_button' },
    { id: 'btn-b', kind: 'call_button' },
    { id: 'btn-c', kind: 'call_button' },
    { id: 'btn-d', kind: 'call_button' },
  ]);
  gw = await connectAsGateway(s, site);
  side = await openDatabase(s.dataDir);
  tokens = createResponseTokens(side.db, { publicUrl: s.url, now: () => clock.iso() });
});
afterAll(async () => {
  await gw?.endAsync();
  await s?.stop();
  await side?.close();
});

describe('the response chain', () => {
  it('a decline pages the next contact at once, without waiting for the sweep', async () => {
    await policy([
      { name: 'caregiver', timeoutSeconds: 60, contacts: [] },
      {
        name: 'family',
        timeoutSeconds: 900,
        acceptSeconds: 300,
        contacts: [
          { kind: 'sms', target: daughter.target },
          { kind: 'sms', target: son.target },
        ],
      },
      { name: 'grid_worker', timeoutSeconds: 900, contacts: [{ kind: 'sms', target: grid.target }] },
    ]);
    const a = await raise('btn-a');
    await advance(61_000);
    expect(await pages(a.id)).toEqual([`1:${daughter.target}#0`]);
    const { token } = await tokens.issue({ alarmId: a.id, level: 1, contact: daughter, contactIndex: 0 });
    const r = await respond(token, { action: 'decline' });
    expect(r.status).toBe(200);
    // No tick, no time: the son is paged by the decline itself.
    expect(await pages(a.id)).toEqual([`1:${daughter.target}#0`, `1:${son.target}#0`]);
    const audit = await s.api<{ entries: Array<{ actor: string; action: string }> }>('GET', `/api/v1/audit?alarmId=${a.id}`);
    expect(audit.body.entries.some((e) => e.actor === '张女士' && e.action === 'respond.decline')).toBe(true);
    await s.api('POST', `/api/v1/alarms/${a.id}/resolve`, { outcome: 'false_alarm' });
  });

  it('no accept: the contact is paged again, then the chain moves to the next level', async () => {
    await policy([
      { name: 'caregiver', timeoutSeconds: 60, contacts: [] },
      { name: 'family', timeoutSeconds: 120, acceptSeconds: 45, repages: 1, contacts: [{ kind: 'sms', target: daughter.target }] },
      { name: 'grid_worker', timeoutSeconds: 900, contacts: [{ kind: 'sms', target: grid.target }] },
    ]);
    const b = await raise('btn-b');
    await advance(61_000);
    expect(await pages(b.id)).toEqual([`1:${daughter.target}#0`]);
    await advance(30_000);
    expect(await pages(b.id)).toEqual([`1:${daughter.target}#0`]);
    await advance(16_000);
    // 46 s without an answer: paged again.
    expect(await pages(b.id)).toEqual([`1:${daughter.target}#0`, `1:${daughter.target}#1`]);
    await advance(46_000);
    // Her re-pages are used up and nobody else is at this level: nothing more here.
    expect(await pages(b.id)).toHaveLength(2);
    await advance(30_000);
    // The family level's 120 s are up: the grid worker.
    expect((await alarm(b.id)).escalationLevel).toBe(2);
    expect(await pages(b.id)).toEqual([`1:${daughter.target}#0`, `1:${daughter.target}#1`, `2:${grid.target}#0`]);
    await s.api('POST', `/api/v1/alarms/${b.id}/resolve`, { outcome: 'false_alarm' });
  });

  it('accepted but nobody on site within the attend time: escalated again, and the screens see it', async () => {
    await policy(
      [
        { name: 'caregiver', timeoutSeconds: 60, contacts: [] },
        { name: 'family', timeoutSeconds: 600, contacts: [{ kind: 'sms', target: daughter.target }] },
        { name: 'grid_worker', timeoutSeconds: 900, contacts: [{ kind: 'sms', target: grid.target }] },
      ],
      { attendSeconds: 600 },
    );
    const screen = await Screen.open(s);
    const c = await raise('btn-c');
    await advance(61_000);
    const { token } = await tokens.issue({ alarmId: c.id, level: 1, contact: daughter, contactIndex: 0 });
    const accepted = await respond(token, { action: 'accept' });
    expect(accepted.body).toMatchObject({ state: 'acknowledged', ackBy: '张女士' });
    await screen.waitForAlarm((a) => a.id === c.id && a.ackBy === '张女士', 'the screen shows who accepted');
    await advance(599_000);
    expect((await alarm(c.id)).state).toBe('acknowledged');
    await advance(2_000);
    const again = await alarm(c.id);
    expect(again).toMatchObject({ state: 'active', escalationLevel: 2, ackBy: null });
    expect(await pages(c.id)).toContain(`2:${grid.target}#0`);
    await screen.waitForAlarm((a) => a.id === c.id && a.state === 'active' && a.escalationLevel === 2, 'the screen sees it back');
    const history = (await s.api<{ history: Array<{ action: string; detail: { reason?: string } }> }>('GET', `/api/v1/alarms/${c.id}`)).body
      .history;
    expect(history.find((h) => h.action === 'reescalated')?.detail.reason).toBe('not_on_site');
    // Arriving late still counts: the same link marks her on site, and it stays put.
    const onSite = await respond(token, { action: 'on_site' });
    expect(onSite.body).toMatchObject({ onSiteBy: '张女士', state: 'acknowledged' });
    await advance(3600_000);
    expect((await alarm(c.id)).state).toBe('acknowledged');
    screen.close();
  });

  it('accepted at the last level and not attended: active again, and the people of that level are paged again', async () => {
    await policy(
      [
        { name: 'caregiver', timeoutSeconds: 60, contacts: [] },
        { name: 'family', timeoutSeconds: 600, contacts: [{ kind: 'sms', target: son.target }] },
      ],
      { attendSeconds: 300 },
    );
    const d = await raise('btn-d');
    await advance(61_000);
    expect(await pages(d.id)).toEqual([`1:${son.target}#0`]);
    const { token } = await tokens.issue({ alarmId: d.id, level: 1, contact: son, contactIndex: 0 });
    expect((await respond(token, { action: 'accept' })).body).toMatchObject({ ackBy: '张先生' });
    await advance(301_000);
    expect(await alarm(d.id)).toMatchObject({ state: 'active', escalationLevel: 1, ackBy: null });
    expect(await pages(d.id)).toEqual([`1:${son.target}#0`, `1:${son.target}#1`]);
  });
});

// The no-login response routes (DESIGN.md 3.9) through Fastify's inject: the real routes, alarm
// engine, response chain, notifier and SQLite store, on a fake clock. No socket: nothing here
// depends on one (the browser test drives the page through a real server).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Alarm, ulidSource } from '../../protocol/index.ts';
import { createAlarmEngine } from '../../server/alarms/engine.ts';
import { createNotifier, webhookChannel } from '../../server/alarms/notify.ts';
import { loadPolicies } from '../../server/alarms/policies.ts';
import { createResponseChain } from '../../server/alarms/response-chain.ts';
import { createSender } from '../../server/alarms/sender.ts';
import { respondRoutes } from '../../server/respond/routes.ts';
import { createResponseTokens, type ResponseContact } from '../../server/respond/tokens.ts';
import { siteForView } from '../../server/respond/view.ts';
import { appendAudit, createAlarmStore } from '../../server/storage/alarms.ts';
import { type OpenedDatabase, openDatabase } from '../../server/storage/db.ts';

const log = pino({ level: 'silent' });
let nowMs = Date.parse('2026-12-01T20:00:00.000Z');
const now = () => new Date(nowMs).toISOString();
let dir: string;
let opened: OpenedDatabase;
let app: FastifyInstance;
let tokens: ReturnType<typeof createResponseTokens>;
let engine: ReturnType<typeof createAlarmEngine>;
const changes: Alarm[] = [];
const ids = ulidSource();
const daughter: ResponseContact = { kind: 'sms', target: '+8613800000001', name: '王女士' };
const son: ResponseContact = { kind: 'sms', target: '+8613800000002', name: '王先生' };

async function raise(device: string, residentId: string | null = 'res-1'): Promise<Alarm> {
  const db = opened.db;
  const changed = await db
    .transaction()
    .execute((tx) =>
      engine.apply(
        tx,
        [{ kind: 'raise', type: 'fall', priority: 'high' }],
        { siteId: 'home-1', gatewayId: 'gw-1', deviceId: device, residentId, room: '1', unregistered: false, at: now() },
        'test',
      ),
    );
  const alarm = await createAlarmStore(db).get(changed[0] as string);
  if (!alarm) throw new Error('no alarm');
  // Up the chain to the family level, as escalation would.
  await db.updateTable('alarms').set({ escalation_level: 1 }).where('id', '=', alarm.id).execute();
  return { ...alarm, escalationLevel: 1 };
}
const post = (token: string, body: unknown, ip = '10.0.0.1') =>
  app.inject({ method: 'POST', url: `/api/v1/respond/${token}`, payload: body as object, remoteAddress: ip });

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'respond-route-'));
  opened = await openDatabase(dir);
  const db = opened.db;
  await db
    .insertInto('sites')
    .values({ id: 'home-1', name: '幸福里 3 号', kind: 'family_bed', timezone: 'Asia/Shanghai', created_at: now() })
    .execute();
  await sql`UPDATE sites SET address = ${'重庆市渝中区幸福里 3 号 2 单元 501'}, lat = 29.56, lon = 106.55 WHERE id = 'home-1'`.execute(db);
  await db
    .insertInto('residents')
    .values({ id: 'res-1', site_id: 'home-1', name: '王奶奶', room: '1', bed: null, settings: '{}', created_at: now() })
    .execute();
  await db
    .insertInto('residents')
    .values({ id: 'res-2', site_id: 'home-1', name: '李爷爷', room: '2', bed: null, settings: '{}', created_at: now() })
    .execute();
  const policies = await loadPolicies(db);
  await policies.set(
    'home-1',
    {
      levels: [
        { name: 'caregiver', timeoutSeconds: 60, contacts: [] },
        {
          name: 'family',
          timeoutSeconds: 600,
          acceptSeconds: 60,
          contacts: [
            { kind: 'sms', target: daughter.target },
            { kind: 'sms', target: son.target },
          ],
        },
        { name: 'grid_worker', timeoutSeconds: 600, contacts: [{ kind: 'sms', target: '+8613800000003' }] },
      ],
    },
    now(),
  );
  const alarms = createAlarmStore(db);
  const notifier = createNotifier({ db, ids, now, log, channels: { webhook: webhookChannel() }, sender: createSender(log) });
  engine = createAlarmEngine({
    db,
    alarms,
    ids,
    now,
    log,
    policies,
    onChange: (a) => changes.push(...a),
    onEscalated: (a, level, policy) => void notifier.escalated(a, level, policy),
  });
  const chain = createResponseChain({ db, notifier, engine, policies, getAlarm: (id) => alarms.get(id), now, log });
  tokens = createResponseTokens(db, { publicUrl: 'https://care.example.cn', now });
  // The server's own validator settings (server/http/app.ts): unknown properties are refused, not dropped.
  app = Fastify({ logger: false, ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true } } });
  await app.register(respondRoutes, {
    tokens,
    getAlarm: (id) => alarms.get(id),
    engine,
    chain,
    siteOf: (id) => siteForView(db, id),
    audit: (e) => appendAudit(db, e),
    now,
    limits: { perToken: 20, perAddress: 1000 },
  });
  await app.ready();
});
afterAll(async () => {
  await app?.close();
  await opened?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('GET /r/{token}', () => {
  it('serves the page in Chinese, in English by Accept-Language, with no inline script; 404 for a dead link', async () => {
    const alarm = await raise('radar-page');
    const { token, url } = await tokens.issue({ alarmId: alarm.id, level: 1, contact: daughter, contactIndex: 0 });
    expect(url).toBe(`https://care.example.cn/r/${token}`);
    nowMs += 3 * 60_000;
    const zh = await app.inject({ method: 'GET', url: `/r/${token}` });
    expect(zh.statusCode).toBe(200);
    expect(zh.headers['content-type']).toContain('text/html');
    expect(zh.headers['cache-control']).toBe('no-store');
    expect(zh.headers['referrer-policy']).toBe('no-referrer');
    for (const text of [
      '我去处理',
      '无法处理',
      '跌倒',
      '王奶奶',
      '幸福里 3 号',
      '重庆市渝中区幸福里 3 号 2 单元 501',
      '3 分钟前',
      'uri.amap.com',
    ])
      expect(zh.body).toContain(text);
    // Only the static script; nothing a strict CSP would block.
    expect(zh.body.match(/<script[^>]*>/g)).toEqual(['<script src="/r/respond.js" defer>']);
    expect(zh.body).not.toContain('李爷爷');
    const en = await app.inject({ method: 'GET', url: `/r/${token}`, headers: { 'accept-language': 'en-GB,en;q=0.9,zh;q=0.5' } });
    expect(en.body).toContain('I&#39;ll go');
    expect(en.body).toContain('3 min ago');
    const js = await app.inject({ method: 'GET', url: '/r/respond.js' });
    expect(js.statusCode).toBe(200);
    expect(js.headers['content-type']).toContain('javascript');
    for (const dead of ['A'.repeat(32), 'not-a-token', `${token}x`]) {
      const r = await app.inject({ method: 'GET', url: `/r/${dead}` });
      expect(r.statusCode).toBe(404);
      expect(r.body).toContain('链接已失效');
    }
  });
});

describe('POST /api/v1/respond/{token}', () => {
  it('accept acknowledges in the contact name; on_site and resolve follow; the link then dies', async () => {
    const alarm = await raise('radar-accept');
    const other = await raise('radar-other', 'res-2');
    const { token } = await tokens.issue({ alarmId: alarm.id, level: 1, contact: daughter, contactIndex: 0 });
    const accepted = await post(token, { action: 'accept' });
    expect(accepted.statusCode).toBe(200);
    const view = accepted.json();
    expect(view).toMatchObject({ id: alarm.id, state: 'acknowledged', ackBy: '王女士', you: { name: '王女士', state: 'accepted' } });
    expect(view.site).toMatchObject({ name: '幸福里 3 号', kind: 'family_bed', lat: 29.56, lon: 106.55 });
    // Nothing of the device, gateway, other residents or other alarms.
    for (const key of ['deviceId', 'gatewayId', 'residentId', 'siteId', 'note']) expect(view).not.toHaveProperty(key);
    expect(accepted.body).not.toContain(other.id);
    expect(accepted.body).not.toContain('李爷爷');
    expect(changes.find((a) => a.id === alarm.id && a.state === 'acknowledged')?.ackBy).toBe('王女士');
    const audit = await opened.db
      .selectFrom('audit')
      .selectAll()
      .where('alarm_id', '=', alarm.id)
      .where('action', 'like', 'respond.%')
      .execute();
    expect(audit.map((a) => [a.actor, a.action])).toEqual([['王女士', 'respond.accept']]);

    const onSite = await post(token, { action: 'on_site' });
    expect(onSite.json()).toMatchObject({ onSiteBy: '王女士', you: { state: 'on_site' } });
    const resolved = await post(token, { action: 'resolve', outcome: 'assisted' });
    expect(resolved.json()).toMatchObject({ state: 'resolved', resolvedBy: '王女士', outcome: 'assisted' });
    expect((await post(token, { action: 'accept' })).statusCode).toBe(404);
    expect((await app.inject({ method: 'GET', url: `/r/${token}` })).statusCode).toBe(404);
    // The other alarm is untouched.
    expect((await createAlarmStore(opened.db).get(other.id))?.state).toBe('active');
  });

  it('a link for alarm A cannot act on B, and a body naming another alarm is refused', async () => {
    const a = await raise('radar-a');
    const b = await raise('radar-b', 'res-2');
    const { token } = await tokens.issue({ alarmId: a.id, level: 1, contact: son, contactIndex: 1 });
    const refused = await post(token, { action: 'accept', alarmId: b.id });
    expect(refused.statusCode).toBe(400);
    const r = await post(token, { action: 'accept' });
    expect(r.json().id).toBe(a.id);
    const store = createAlarmStore(opened.db);
    expect((await store.get(a.id))?.state).toBe('acknowledged');
    expect((await store.get(b.id))?.state).toBe('active');
    expect((await post('x'.repeat(32), { action: 'accept' })).statusCode).toBe(404);
    expect((await post(token, { action: 'dance' })).statusCode).toBe(400);
    expect((await post(token, {})).statusCode).toBe(400);
  });

  it('decline pages the next contact at once', async () => {
    const alarm = await raise('radar-decline');
    // The chain had paged the daughter, the first of the family call tree.
    await opened.db
      .insertInto('notifications')
      .values({
        id: ids.next(),
        alarm_id: alarm.id,
        level: 1,
        channel: 'sms',
        target: daughter.target,
        payload: '{}',
        state: 'queued',
        attempts: 0,
        next_attempt_at: null,
        last_error: null,
        created_at: now(),
        contact_index: 0,
        receipt_at: null,
      })
      .execute();
    const { token } = await tokens.issue({ alarmId: alarm.id, level: 1, contact: daughter, contactIndex: 0 });
    const r = await post(token, { action: 'decline' });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({ state: 'active', you: { state: 'declined' } });
    const rows = await opened.db.selectFrom('notifications').select(['target', 'contact_index']).where('alarm_id', '=', alarm.id).execute();
    expect(rows.map((x) => x.target).sort()).toEqual([daughter.target, son.target].sort());
    // A second decline by the son (nobody left at the level): the next level, now.
    const sonLink = await tokens.issue({ alarmId: alarm.id, level: 1, contact: son, contactIndex: 1 });
    await post(sonLink.token, { action: 'decline' });
    const after = await createAlarmStore(opened.db).get(alarm.id);
    expect(after?.escalationLevel).toBe(2);
    const page = await app.inject({ method: 'GET', url: `/r/${token}` });
    expect(page.body).toContain('王先生: 无法处理');
  });

  it('a link is dead 24 h after it was issued (fake clock)', async () => {
    const alarm = await raise('radar-expire');
    const { token } = await tokens.issue({ alarmId: alarm.id, level: 1, contact: daughter });
    nowMs += 24 * 3600_000 - 1000;
    expect((await app.inject({ method: 'GET', url: `/r/${token}` })).statusCode).toBe(200);
    nowMs += 1000;
    expect((await post(token, { action: 'accept' })).statusCode).toBe(404);
    expect((await app.inject({ method: 'GET', url: `/r/${token}` })).statusCode).toBe(404);
    expect((await createAlarmStore(opened.db).get(alarm.id))?.state).toBe('active');
  });

  it('is rate-limited per token (and per address)', async () => {
    const alarm = await raise('radar-limit');
    const { token } = await tokens.issue({ alarmId: alarm.id, level: 1, contact: daughter });
    const statuses: number[] = [];
    for (let i = 0; i < 22; i++) statuses.push((await post(token, { action: 'accept' }, `10.0.1.${i}`)).statusCode);
    expect(statuses.slice(0, 20).every((s) => s === 200)).toBe(true);
    expect(statuses.slice(20)).toEqual([429, 429]);
    // A minute later the link works again.
    nowMs += 61_000;
    expect((await post(token, { action: 'accept' })).statusCode).toBe(200);
  });
});

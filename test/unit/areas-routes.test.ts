// The areas routes (server/http/areas.ts) through Fastify's inject on a real SQLite store: the tree
// and its rules, a home's place, family contacts, the centre board's homes and response times per
// level. Who calls is set by a test header turned into a user, and their access is built by the
// real loadAccess (no login: sessions are tested elsewhere; nothing here needs a socket).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CentreBoard } from '../../protocol/areas.ts';
import { ulidSource } from '../../protocol/index.ts';
import { loadPolicies } from '../../server/alarms/policies.ts';
import { loadAccess } from '../../server/http/access.ts';
import { areaRoutes, levelKpis } from '../../server/http/areas.ts';
import { ApiError } from '../../server/http/errors.ts';
import { appendAudit, createAlarmStore } from '../../server/storage/alarms.ts';
import { createAreaStore } from '../../server/storage/areas.ts';
import { type OpenedDatabase, openDatabase } from '../../server/storage/db.ts';
import { createRegistry } from '../../server/storage/registry.ts';
import type { AlarmsTable, UsersTable } from '../../server/storage/tables.ts';
import { createUserStore, type User } from '../../server/storage/users.ts';
import { type Postgres, postgresBin, startPostgres } from '../helpers/postgres.ts';
import { requireComponent } from '../helpers/require-component.ts';

/** The same routes on SQLite and on PostgreSQL (migration 0017, the scope sub-selects, numbers back as numbers). */
const BACKENDS = ['sqlite', ...(requireComponent('postgresql', postgresBin() !== null) ? ['postgres'] : [])];
let pgServer: Postgres | null = null;

const NOW = '2026-12-02T04:00:00.000Z';
let dir: string;
let opened: OpenedDatabase;
let app: FastifyInstance;
const users: Record<string, User> = {};

const as = (who: string, method: 'GET' | 'POST' | 'PUT' | 'PATCH', url: string, payload?: object) =>
  app.inject({ method, url, headers: { 'x-test-user': who }, ...(payload ? { payload } : {}) });

async function addUser(id: string, role: UsersTable['role'], extra: Partial<User> = {}) {
  users[id] = await createUserStore(opened.db).create(
    { id, username: id, role, displayName: null, siteId: null, residentId: null, passwordHash: 'x', ...extra },
    NOW,
  );
}

function alarmRow(id: string, siteId: string, set: Partial<AlarmsTable> = {}): AlarmsTable {
  return {
    id,
    type: 'call',
    priority: 'high',
    state: 'active',
    cause_key: `cause-${id}`,
    site_id: siteId,
    gateway_id: null,
    device_id: null,
    resident_id: null,
    room: '1',
    raised_at: '2026-12-02T03:00:00.000Z',
    last_event_at: '2026-12-02T03:00:00.000Z',
    ack_at: null,
    ack_by: null,
    resolved_at: null,
    resolved_by: null,
    outcome: null,
    note: null,
    escalation_level: 0,
    count: 1,
    unregistered: 0,
    test: 0,
    snoozed_until: null,
    next_escalation_at: null,
    upgrade_at: null,
    on_site_by: null,
    ...set,
  };
}

describe.each(BACKENDS)('on %s', (backend) => {
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'areas-routes-'));
    for (const k of Object.keys(users)) delete users[k];
    if (backend === 'postgres') pgServer = await startPostgres();
    opened = await openDatabase(dir, pgServer?.url);
    const db = opened.db;
    const areas = createAreaStore(db);
    const registry = createRegistry(db);
    await addUser('admin', 'admin');
    await addUser('grid-1', 'grid_worker');
    await addUser('fam-1', 'family', { residentId: 'res-a' });
    await addUser('carer', 'caregiver', { siteId: 'home-a' });
    // The API's own Ajv options (server/http/app.ts): coercion included, as in production.
    app = Fastify({
      ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true } },
    }).withTypeProvider<TypeBoxTypeProvider>();
    app.setErrorHandler((err: Error & { statusCode?: number; validation?: unknown }, _req, reply) =>
      reply.code(err instanceof ApiError ? err.statusCode : err.validation ? 400 : 500).send({ message: err.message }),
    );
    app.decorateRequest('access', null as never);
    app.decorate('authenticate', async (req) => {
      const u = users[String(req.headers['x-test-user'])];
      if (!u) throw new ApiError(401, 'UNAUTHORIZED', 'no user');
      req.access = await loadAccess({ db, areas, now: () => NOW }, u);
    });
    await app.register(areaRoutes, {
      db,
      areas,
      registry,
      alarms: createAlarmStore(db),
      policies: await loadPolicies(db),
      ids: ulidSource(),
      now: () => NOW,
      mapTileUrl: null,
    });
    for (const id of ['home-a', 'home-b']) {
      await registry.createSite({ id, name: id, kind: 'family_bed', timezone: 'Asia/Shanghai' }, NOW);
      await registry.createResident({ id: `res-${id.slice(5)}`, siteId: id, name: `老人 ${id}`, room: '1', bed: null, settings: {} }, NOW);
    }
  }, 120_000);
  afterAll(async () => {
    await app?.close();
    await opened?.close();
    pgServer?.stop();
    pgServer = null;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  describe('the grid workers to choose from', () => {
    it('administrators and centre operators read their names (no phone), others are refused', async () => {
      await addUser('centre-gw', 'centre_operator', { areaId: 'd1' });
      await addUser('grid-2', 'grid_worker', { displayName: '网格员 周', phone: '+8613800000009' });
      for (const who of ['admin', 'centre-gw']) {
        const r = await as(who, 'GET', '/api/v1/grid-workers');
        expect(r.statusCode).toBe(200);
        expect(r.json().gridWorkers).toEqual([
          { id: 'grid-1', username: 'grid-1', displayName: null },
          { id: 'grid-2', username: 'grid-2', displayName: '网格员 周' },
        ]);
      }
      for (const who of ['grid-1', 'carer', 'fam-1']) expect((await as(who, 'GET', '/api/v1/grid-workers')).statusCode).toBe(403);
    });
  });

  describe('the areas tree', () => {
    it('builds district -> street -> community and refuses any other shape', async () => {
      const d = await as('admin', 'POST', '/api/v1/areas', { id: 'd1', kind: 'district', name: '渝中区' });
      expect(d.statusCode).toBe(201);
      expect(
        (await as('admin', 'POST', '/api/v1/areas', { id: 's1', kind: 'street', name: '解放碑街道', parentId: 'd1' })).statusCode,
      ).toBe(201);
      expect(
        (await as('admin', 'POST', '/api/v1/areas', { id: 'c1', kind: 'community', name: '民族路社区', parentId: 's1' })).statusCode,
      ).toBe(201);
      expect(
        (await as('admin', 'POST', '/api/v1/areas', { id: 's2', kind: 'street', name: '七星岗街道', parentId: 'd1' })).statusCode,
      ).toBe(201);
      expect(
        (await as('admin', 'POST', '/api/v1/areas', { id: 'c2', kind: 'community', name: '通远门社区', parentId: 's2' })).statusCode,
      ).toBe(201);
      // A community straight under a district, a street without its district, a district with a parent.
      expect((await as('admin', 'POST', '/api/v1/areas', { kind: 'community', name: 'x', parentId: 'd1' })).statusCode).toBe(400);
      expect((await as('admin', 'POST', '/api/v1/areas', { kind: 'street', name: 'x' })).statusCode).toBe(400);
      expect((await as('admin', 'POST', '/api/v1/areas', { kind: 'district', name: 'x', parentId: 'd1' })).statusCode).toBe(400);
      expect((await as('admin', 'POST', '/api/v1/areas', { kind: 'street', name: 'x', parentId: 'nope' })).statusCode).toBe(400);
      expect((await as('admin', 'POST', '/api/v1/areas', { id: 'd1', kind: 'district', name: 'again' })).statusCode).toBe(409);
      expect((await as('admin', 'POST', '/api/v1/areas', { kind: 'county', name: 'x' })).statusCode).toBe(400);
      expect((await as('grid-1', 'POST', '/api/v1/areas', { kind: 'district', name: 'x' })).statusCode).toBe(403);
      const renamed = await as('admin', 'PATCH', '/api/v1/areas/c1', { name: '民族路社区（新）' });
      expect(renamed.json()).toMatchObject({ id: 'c1', kind: 'community', parentId: 's1', name: '民族路社区（新）' });
      expect((await as('admin', 'GET', '/api/v1/areas')).json().areas).toHaveLength(5);
    });

    it('a centre operator reads their street and its communities only', async () => {
      await addUser('centre-s1', 'centre_operator', { areaId: 's1' });
      const list = (await as('centre-s1', 'GET', '/api/v1/areas')).json() as { areas: Array<{ id: string }> };
      expect(list.areas.map((a) => a.id).sort()).toEqual(['c1', 's1']);
      expect((await as('centre-s1', 'GET', '/api/v1/areas/c1')).statusCode).toBe(200);
      expect((await as('centre-s1', 'GET', '/api/v1/areas/c2')).statusCode).toBe(404);
      expect((await as('centre-s1', 'GET', '/api/v1/areas/d1')).statusCode).toBe(404);
      expect((await as('grid-1', 'GET', '/api/v1/areas')).json()).toEqual({ areas: [] });
    });
  });

  describe("a home's place", () => {
    it('an administrator places a home; a centre operator edits its address and grid worker, never moving it out of their area', async () => {
      const placed = await as('admin', 'PUT', '/api/v1/sites/home-a/home', {
        areaId: 'c1',
        address: '民族路 1 号',
        lat: 29.56,
        lon: 106.57,
      });
      expect(placed.json()).toEqual({
        siteId: 'home-a',
        areaId: 'c1',
        address: '民族路 1 号',
        lat: 29.56,
        lon: 106.57,
        gridWorkerId: null,
      });
      await as('admin', 'PUT', '/api/v1/sites/home-b/home', { areaId: 'c2', lat: 29.55, lon: 106.56 });
      const edited = await as('centre-s1', 'PUT', '/api/v1/sites/home-a/home', { gridWorkerId: 'grid-1', address: '民族路 1 号 2 楼' });
      expect(edited.json()).toMatchObject({ areaId: 'c1', address: '民族路 1 号 2 楼', gridWorkerId: 'grid-1' });
      expect((await as('centre-s1', 'PUT', '/api/v1/sites/home-a/home', { areaId: 'c2' })).statusCode).toBe(403);
      expect((await as('centre-s1', 'PUT', '/api/v1/sites/home-b/home', { address: 'x' })).statusCode).toBe(404);
      expect((await as('carer', 'PUT', '/api/v1/sites/home-a/home', { address: 'x' })).statusCode).toBe(403);
      // Bad input: not a grid worker, half a position, out of range, unknown area.
      expect((await as('admin', 'PUT', '/api/v1/sites/home-a/home', { gridWorkerId: 'carer' })).statusCode).toBe(400);
      expect((await as('admin', 'PUT', '/api/v1/sites/home-a/home', { lat: 29.5 })).statusCode).toBe(400);
      expect((await as('admin', 'PUT', '/api/v1/sites/home-a/home', { lat: 91, lon: 0 })).statusCode).toBe(400);
      expect((await as('admin', 'PUT', '/api/v1/sites/home-a/home', { areaId: 'nope' })).statusCode).toBe(400);
      expect((await as('admin', 'PUT', '/api/v1/sites/nope/home', { address: 'x' })).statusCode).toBe(404);
      const home = await createAreaStore(opened.db).siteHome('home-a');
      expect(home).toMatchObject({ areaId: 'c1', gridWorkerId: 'grid-1', lat: 29.56 });
      // null clears (never "" or 0: the API coerces types); the place is then put back.
      const cleared = await as('admin', 'PUT', '/api/v1/sites/home-a/home', { lat: null, lon: null, gridWorkerId: null, address: null });
      expect(cleared.json()).toMatchObject({ lat: null, lon: null, gridWorkerId: null, address: null });
      await as('admin', 'PUT', '/api/v1/sites/home-a/home', {
        lat: 29.56,
        lon: 106.57,
        gridWorkerId: 'grid-1',
        address: '民族路 1 号 2 楼',
      });
    });
  });

  describe('family contacts', () => {
    it('are replaced in calling order, with E.164 numbers and family logins only', async () => {
      const contacts = [
        { name: '王丽', relation: '女儿', phone: '+8613800000001', userId: 'fam-1' },
        { name: '王强', relation: '儿子', phone: '+8613800000002' },
      ];
      const put = await as('centre-s1', 'PUT', '/api/v1/residents/res-a/contacts', { contacts });
      expect(put.statusCode).toBe(200);
      expect((await as('fam-1', 'GET', '/api/v1/residents/res-a/contacts')).json()).toEqual({
        contacts: [contacts[0], { ...contacts[1], userId: null }],
      });
      expect(
        (await as('admin', 'PUT', '/api/v1/residents/res-a/contacts', { contacts: [{ ...contacts[1], phone: '13800000002' }] })).statusCode,
      ).toBe(400);
      expect(
        (await as('admin', 'PUT', '/api/v1/residents/res-a/contacts', { contacts: [{ ...contacts[1], userId: 'carer' }] })).statusCode,
      ).toBe(400);
      expect(
        (await as('admin', 'PUT', '/api/v1/residents/res-a/contacts', { contacts: Array.from({ length: 11 }, () => contacts[1]) }))
          .statusCode,
      ).toBe(400);
      expect((await as('fam-1', 'PUT', '/api/v1/residents/res-a/contacts', { contacts })).statusCode).toBe(403);
      expect((await as('centre-s1', 'GET', '/api/v1/residents/res-b/contacts')).statusCode).toBe(404);
      // Bad input changed nothing.
      expect((await as('admin', 'GET', '/api/v1/residents/res-a/contacts')).json().contacts).toHaveLength(2);
      // The audit says who changed them, not the numbers.
      const audit = await opened.db.selectFrom('audit').selectAll().where('action', '=', 'resident.contacts_changed').execute();
      expect(audit).toHaveLength(1);
      expect(JSON.stringify(audit)).not.toContain('+86138');
    });
  });

  describe("the centre's board", () => {
    it("lists the operator's homes with the open alarm, who accepted it and who is on site, and times per level", async () => {
      const db = opened.db;
      await db
        .insertInto('alarms')
        .values([
          alarmRow('al-open', 'home-a', {
            state: 'acknowledged',
            ack_at: '2026-12-02T03:00:40.000Z',
            ack_by: 'grid-1',
            on_site_by: 'grid-1',
            escalation_level: 1,
          }),
          alarmRow('al-old', 'home-a', {
            state: 'resolved',
            raised_at: '2026-12-01T03:00:00.000Z',
            ack_at: '2026-12-01T03:02:00.000Z',
            escalation_level: 1,
          }),
          alarmRow('al-b', 'home-b', { raised_at: '2026-12-02T03:30:00.000Z' }),
          alarmRow('al-tech', 'home-a', { type: 'device_offline', state: 'resolved' }),
        ])
        .execute();
      await appendAudit(db, { at: '2026-12-02T03:10:00.000Z', actor: 'grid-1', action: 'on_site', alarmId: 'al-open' });
      const board = (await as('centre-s1', 'GET', '/api/v1/centre/board')).json() as CentreBoard;
      expect(board.homes.map((h) => h.siteId)).toEqual(['home-a']);
      expect(board.homes[0]).toMatchObject({
        address: '民族路 1 号 2 楼',
        areaName: '民族路社区（新）',
        gridWorker: 'grid-1',
        openAlarms: 1,
        alarm: {
          id: 'al-open',
          state: 'acknowledged',
          ackBy: 'grid-1',
          ackAt: '2026-12-02T03:00:40.000Z',
          onSiteBy: 'grid-1',
          onSiteAt: '2026-12-02T03:10:00.000Z',
        },
      });
      // Level 1: one accepted in 40 s (within 60), one in 120 s; one on site in 10 min. The technical alarm and home B's are not counted.
      expect(board.levels).toEqual([
        expect.objectContaining({
          level: 1,
          alarms: 2,
          accepted: 2,
          acceptSecondsP50: 40,
          acceptSecondsP90: 120,
          acceptedWithinTargetPercent: 50,
          onSite: 1,
          onSiteSecondsP50: 600,
          onSiteWithinTargetPercent: 50,
        }),
      ]);
      expect(board.targets).toEqual({ acceptSeconds: 60, onSiteSeconds: 1800 });
      // The grid worker sees their home; an administrator both; a family account is refused.
      expect(((await as('grid-1', 'GET', '/api/v1/centre/board')).json() as CentreBoard).homes.map((h) => h.siteId)).toEqual(['home-a']);
      const all = (await as('admin', 'GET', '/api/v1/centre/board')).json() as CentreBoard;
      expect(all.homes.map((h) => [h.siteId, h.alarm?.id])).toEqual([
        ['home-a', 'al-open'],
        ['home-b', 'al-b'],
      ]);
      expect((await as('fam-1', 'GET', '/api/v1/centre/board')).statusCode).toBe(403);
      expect((await as('admin', 'GET', '/api/v1/centre/board?from=2026-12-03T00:00:00Z&to=2026-12-02T00:00:00Z')).statusCode).toBe(400);
    });

    it('levelKpis: no alarms at a level, no figures; a share of those raised, not of those answered', () => {
      const k = levelKpis(
        [
          { level: 0, raisedAt: '2026-12-02T00:00:00.000Z', ackAt: '2026-12-02T00:00:30.000Z', onSiteAt: null },
          { level: 0, raisedAt: '2026-12-02T00:00:00.000Z', ackAt: null, onSiteAt: null },
          { level: 2, raisedAt: '2026-12-02T00:00:00.000Z', ackAt: '2026-12-02T00:05:00.000Z', onSiteAt: '2026-12-02T00:20:00.000Z' },
        ],
        (l) => `L${l}`,
        { acceptSeconds: 60, onSiteSeconds: 1800 },
      );
      expect(k.map((l) => [l.level, l.name, l.alarms, l.acceptedWithinTargetPercent, l.onSiteSecondsP50])).toEqual([
        [0, 'L0', 2, 50, null],
        [2, 'L2', 1, 0, 1200],
      ]);
    });
  });
});

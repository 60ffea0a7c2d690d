// Homes in the community (issue 15): the areas tree (district -> street -> community), where a
// site is and who answers for it, each resident's family contacts, and the community centre's
// board (every family bed of the caller's area, its state, and response times per level).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { IdParams } from '../../protocol/api.ts';
import {
  Area,
  AreaCreate,
  AreaPatch,
  type BoardHome,
  CentreBoard,
  FamilyContacts,
  GridWorkers,
  type LevelKpi,
  SiteHome,
  SiteHomeWrite,
} from '../../protocol/areas.ts';
import type { IdSource } from '../../protocol/index.ts';
import type { PolicySource } from '../alarms/escalation-policy.ts';
import { type AlarmStore, alarmScopeFilter, appendAudit } from '../storage/alarms.ts';
import { type AreaStore, CHILD_KIND, MAX_CONTACTS } from '../storage/areas.ts';
import type { Db, Registry } from '../storage/registry.ts';
import type { Access } from './access.ts';
import { badRequest, conflict, forbidden, notFound } from './errors.ts';

export interface AreaRouteOptions {
  db: Db;
  areas: AreaStore;
  registry: Registry;
  alarms: AlarmStore;
  policies: PolicySource;
  ids: IdSource;
  now: () => string;
  mapTileUrl: string | null;
}

/** The district's targets: answer within 60 s; on site within the agreed time [30 min]. */
export const ACCEPT_TARGET_SECONDS = 60;
export const ON_SITE_TARGET_SECONDS = 1800;
/** Homes on one board, and alarms read for its figures: bounded, newest first. */
const MAX_HOMES = 5_000;
const MAX_KPI_ALARMS = 50_000;
/** Technical alarms are not calls for help: they are left out of response times (as in reports). */
const TECHNICAL = ['gateway_offline', 'device_offline', 'low_battery', 'tamper', 'device_fault', 'no_caregiver', 'unregistered_devices'];

const percentile = (xs: number[], p: number): number | null => {
  if (xs.length === 0) return null;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
};
const share = (n: number, of: number) => (of === 0 ? null : Math.round((n / of) * 1000) / 10);
const PRIORITY_RANK: Record<string, number> = { high: 0, medium: 1, low: 2 };

/** A centre operator manages the homes of their area; an administrator all. */
const mayManageSite = (access: Access, siteId: string) =>
  access.isAdmin || (access.user.role === 'centre_operator' && access.canSeeSite(siteId));

/** Checks a write of a site's place (also used by POST /api/v1/sites): the area exists and is the caller's, the grid worker is one. */
export async function checkSiteHome(deps: { db: Db; areas: AreaStore }, access: Access, b: SiteHomeWrite): Promise<void> {
  if (b.areaId !== undefined && b.areaId !== null) {
    if (!(await deps.areas.get(b.areaId))) throw badRequest(`area ${b.areaId} does not exist`);
    // A centre operator cannot move a home out of the area they answer for.
    if (!access.canSeeArea(b.areaId)) throw forbidden(`area ${b.areaId} is not yours`);
  }
  if ((b.lat === undefined) !== (b.lon === undefined) || (b.lat === null) !== (b.lon === null))
    throw badRequest('lat and lon are set (or cleared) together');
  if (b.gridWorkerId !== undefined && b.gridWorkerId !== null) {
    const u = await deps.db.selectFrom('users').select('role').where('id', '=', b.gridWorkerId).executeTakeFirst();
    if (u?.role !== 'grid_worker') throw badRequest(`user ${b.gridWorkerId} is not a grid worker`);
  }
}

async function chunked<T>(ids: string[], read: (part: string[]) => Promise<T[]>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < ids.length; i += 500) out.push(...(await read(ids.slice(i, i + 500))));
  return out;
}

/** Per escalation level: time from raised to accepted and to on site (pure, for a unit test). */
export function levelKpis(
  rows: Array<{ level: number; raisedAt: string; ackAt: string | null; onSiteAt: string | null }>,
  names: (level: number) => string,
  targets: { acceptSeconds: number; onSiteSeconds: number },
): LevelKpi[] {
  const byLevel = new Map<number, typeof rows>();
  for (const r of rows) {
    const list = byLevel.get(r.level);
    if (list) list.push(r);
    else byLevel.set(r.level, [r]);
  }
  const secs = (from: string, to: string | null) => (to ? Math.max(0, (Date.parse(to) - Date.parse(from)) / 1000) : null);
  return [...byLevel.entries()]
    .sort(([a], [b]) => a - b)
    .map(([level, list]) => {
      const accept = list.flatMap((r) => secs(r.raisedAt, r.ackAt) ?? []);
      const onSite = list.flatMap((r) => secs(r.raisedAt, r.onSiteAt) ?? []);
      return {
        level,
        name: names(level),
        alarms: list.length,
        accepted: accept.length,
        acceptSecondsP50: percentile(accept, 50),
        acceptSecondsP90: percentile(accept, 90),
        acceptedWithinTargetPercent: share(accept.filter((s) => s <= targets.acceptSeconds).length, list.length),
        onSite: onSite.length,
        onSiteSecondsP50: percentile(onSite, 50),
        onSiteSecondsP90: percentile(onSite, 90),
        onSiteWithinTargetPercent: share(onSite.filter((s) => s <= targets.onSiteSeconds).length, list.length),
      };
    });
}

export const areaRoutes: FastifyPluginAsyncTypebox<AreaRouteOptions> = async (app, opts) => {
  const { db, areas, registry, alarms, policies, ids, now } = opts;
  app.addHook('onRequest', app.authenticate);

  // The tree
  app.post('/api/v1/areas', { schema: { tags: ['areas'], body: AreaCreate, response: { 201: Area } } }, async (req, reply) => {
    if (!req.access.isAdmin) throw forbidden('administrators only');
    const b = req.body;
    let parentId: string | null = null;
    if (b.kind === 'district') {
      if (b.parentId !== undefined) throw badRequest('a district is the top of the tree: no parentId');
    } else {
      if (b.parentId === undefined) throw badRequest(`a ${b.kind} needs parentId (its ${b.kind === 'street' ? 'district' : 'street'})`);
      const parent = await areas.get(b.parentId);
      if (!parent) throw badRequest(`area ${b.parentId} does not exist`);
      if (CHILD_KIND[parent.kind] !== b.kind) throw badRequest(`a ${b.kind} cannot be placed in a ${parent.kind}`);
      parentId = parent.id;
    }
    const id = b.id ?? `area-${ids.next().toLowerCase()}`;
    if (await areas.get(id)) throw conflict(`area ${id} exists`);
    const created = await areas.create({ id, parentId, kind: b.kind, name: b.name }, now());
    await appendAudit(db, { at: now(), actor: req.access.user.username, action: 'area.created', subject: id });
    return reply.code(201).send(created);
  });

  app.get('/api/v1/areas', { schema: { tags: ['areas'], response: { 200: Type.Object({ areas: Type.Array(Area) }) } } }, async (req) => {
    if (req.access.isAdmin) return { areas: await areas.list() };
    if (req.access.user.role !== 'centre_operator' || !req.access.user.areaId) return { areas: [] };
    return { areas: await areas.list(await areas.subtree(req.access.user.areaId)) };
  });

  app.get('/api/v1/areas/:id', { schema: { tags: ['areas'], params: IdParams, response: { 200: Area } } }, async (req) => {
    const found = await areas.get(req.params.id);
    if (!found || !req.access.canSeeArea(found.id)) throw notFound('area', req.params.id);
    return found;
  });

  app.patch(
    '/api/v1/areas/:id',
    { schema: { tags: ['areas'], params: IdParams, body: AreaPatch, response: { 200: Area } } },
    async (req) => {
      if (!req.access.isAdmin) throw forbidden('administrators only');
      const found = await areas.get(req.params.id);
      if (!found) throw notFound('area', req.params.id);
      await areas.update(found.id, req.body);
      await appendAudit(db, { at: now(), actor: req.access.user.username, action: 'area.changed', subject: found.id });
      return { ...found, ...(req.body.name === undefined ? {} : { name: req.body.name }) };
    },
  );

  // The grid workers to choose from for a home: administrators and centre operators (who may set a
  // home's grid worker but not read the users list). Names only; grid workers are not bound to an area.
  app.get('/api/v1/grid-workers', { schema: { tags: ['areas'], response: { 200: GridWorkers } } }, async (req) => {
    if (!req.access.isAdmin && req.access.user.role !== 'centre_operator') throw forbidden('administrators and centre operators');
    const rows = await db
      .selectFrom('users')
      .select(['id', 'username', 'display_name'])
      .where('role', '=', 'grid_worker')
      .orderBy('username')
      .limit(MAX_HOMES)
      .execute();
    return { gridWorkers: rows.map((u) => ({ id: u.id, username: u.username, displayName: u.display_name ?? null })) };
  });

  // A site's place: area, address, map position, grid worker.
  app.put(
    '/api/v1/sites/:id/home',
    { schema: { tags: ['areas'], params: IdParams, body: SiteHomeWrite, response: { 200: SiteHome } } },
    async (req) => {
      const { id } = req.params;
      if (!(await registry.getSite(id)) || !(req.access.isAdmin || req.access.canSeeSite(id))) throw notFound('site', id);
      if (!mayManageSite(req.access, id)) throw forbidden('administrators and the centre operators of its area');
      const b = req.body;
      await checkSiteHome({ db, areas }, req.access, b);
      await areas.setSiteHome(id, b);
      await appendAudit(db, { at: now(), actor: req.access.user.username, action: 'site.home_changed', subject: id });
      const home = await areas.siteHome(id);
      if (!home) throw notFound('site', id);
      return { siteId: id, ...home };
    },
  );

  // Family contacts, in calling order.
  const visibleResident = async (access: Access, id: string) => {
    const r = await registry.getResident(id);
    if (!r || !access.canSeeResident(r)) throw notFound('resident', id);
    return r;
  };
  app.get(
    '/api/v1/residents/:id/contacts',
    { schema: { tags: ['areas'], params: IdParams, response: { 200: FamilyContacts } } },
    async (req) => {
      await visibleResident(req.access, req.params.id);
      return { contacts: await areas.contacts(req.params.id) };
    },
  );
  app.put(
    '/api/v1/residents/:id/contacts',
    { schema: { tags: ['areas'], params: IdParams, body: FamilyContacts, response: { 200: FamilyContacts } } },
    async (req) => {
      const r = await visibleResident(req.access, req.params.id);
      if (!mayManageSite(req.access, r.siteId)) throw forbidden('administrators and the centre operators of its area');
      const list = req.body.contacts.map((c) => ({ name: c.name, relation: c.relation, phone: c.phone, userId: c.userId ?? null }));
      if (list.length > MAX_CONTACTS) throw badRequest(`at most ${MAX_CONTACTS} contacts`);
      for (const c of list) {
        if (c.userId === null) continue;
        const u = await db.selectFrom('users').select('role').where('id', '=', c.userId).executeTakeFirst();
        if (u?.role !== 'family') throw badRequest(`user ${c.userId} is not a family account`);
      }
      await areas.setContacts(r.id, list);
      // Who changed a resident's contacts is kept; the numbers themselves are not written to the audit.
      await appendAudit(db, {
        at: now(),
        actor: req.access.user.username,
        action: 'resident.contacts_changed',
        subject: r.id,
        detail: { contacts: list.length },
      });
      return { contacts: list };
    },
  );

  // The community centre's board.
  app.get(
    '/api/v1/centre/board',
    {
      schema: {
        tags: ['areas'],
        querystring: Type.Object(
          {
            from: Type.Optional(Type.String({ format: 'date-time' })),
            to: Type.Optional(Type.String({ format: 'date-time' })),
            onSiteSeconds: Type.Optional(Type.Integer({ minimum: 60, maximum: 86_400 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: CentreBoard },
      },
    },
    async (req) => {
      const access = req.access;
      if (!access.canAct) throw forbidden('staff, centre operators and grid workers');
      const to = req.query.to ? new Date(req.query.to).toISOString() : now();
      const from = req.query.from ? new Date(req.query.from).toISOString() : new Date(Date.parse(to) - 30 * 86_400_000).toISOString();
      if (from > to) throw badRequest('from is after to');
      const targets = { acceptSeconds: ACCEPT_TARGET_SECONDS, onSiteSeconds: req.query.onSiteSeconds ?? ON_SITE_TARGET_SECONDS };

      const siteRows = (await db.selectFrom('sites').selectAll().where('kind', '=', 'family_bed').orderBy('name').execute())
        .filter((s) => access.canSeeSite(s.id))
        .slice(0, MAX_HOMES);
      const siteIds = siteRows.map((s) => s.id);
      const areaNames = new Map(
        (await areas.list([...new Set(siteRows.flatMap((s) => (s.area_id ? [s.area_id] : [])))])).map((a) => [a.id, a.name]),
      );
      const workerIds = [...new Set(siteRows.flatMap((s) => (s.grid_worker_id ? [s.grid_worker_id] : [])))];
      const workers = new Map(
        (
          await chunked(workerIds, (part) =>
            db.selectFrom('users').select(['id', 'username', 'display_name']).where('id', 'in', part).execute(),
          )
        ).map((u) => [u.id, u.display_name ?? u.username]),
      );
      const residents = await chunked(siteIds, (part) =>
        db.selectFrom('residents').select(['id', 'name', 'site_id']).where('site_id', 'in', part).orderBy('name').execute(),
      );
      // Open alarms in the caller's scope, each home's most urgent first: active before
      // acknowledged, high before low, oldest first.
      const open = (await alarms.listForScope(access.alarmScope, { open: true, limit: 2000 })).alarms.filter(
        (a) => a.siteId !== null && access.canSeeAlarm(a) && !a.test,
      );
      const onSiteAt = new Map(
        (
          await chunked(
            open.map((a) => a.id),
            (part) =>
              db
                .selectFrom('audit')
                .select(['alarm_id', (eb) => eb.fn.min<string>('at').as('at')])
                .where('action', '=', 'on_site')
                .where('alarm_id', 'in', part)
                .groupBy('alarm_id')
                .execute(),
          )
        ).map((r) => [r.alarm_id as string, r.at]),
      );
      const urgency = (a: (typeof open)[number]) => [a.state === 'active' ? 0 : 1, PRIORITY_RANK[a.priority] ?? 3];
      const homes: BoardHome[] = siteRows.map((s) => {
        const mine = open
          .filter((a) => a.siteId === s.id)
          .sort((x, y) => {
            const [xs, xp] = urgency(x);
            const [ys, yp] = urgency(y);
            return (xs as number) - (ys as number) || (xp as number) - (yp as number) || (x.raisedAt < y.raisedAt ? -1 : 1);
          });
        const top = mine[0];
        return {
          siteId: s.id,
          name: s.name,
          address: s.address ?? null,
          lat: s.lat === null || s.lat === undefined ? null : Number(s.lat),
          lon: s.lon === null || s.lon === undefined ? null : Number(s.lon),
          areaId: s.area_id ?? null,
          areaName: (s.area_id && areaNames.get(s.area_id)) || null,
          gridWorker: (s.grid_worker_id && workers.get(s.grid_worker_id)) || null,
          residents: residents.filter((r) => r.site_id === s.id).map((r) => ({ id: r.id, name: r.name })),
          openAlarms: mine.length,
          alarm: top
            ? {
                id: top.id,
                type: top.type,
                priority: top.priority,
                state: top.state,
                residentName: top.residentName ?? null,
                raisedAt: top.raisedAt,
                escalationLevel: top.escalationLevel,
                ackAt: top.ackAt,
                ackBy: top.ackBy,
                onSiteBy: top.onSiteBy ?? null,
                onSiteAt: onSiteAt.get(top.id) ?? null,
              }
            : null,
        };
      });

      // Response times per level, over the family beds in scope, read in the query (scope before limit).
      const kpiRows =
        siteIds.length === 0
          ? []
          : await db
              .selectFrom('alarms')
              .innerJoin('sites', 'sites.id', 'alarms.site_id')
              .select(['alarms.id', 'alarms.site_id', 'alarms.raised_at', 'alarms.ack_at', 'alarms.escalation_level'])
              .where('sites.kind', '=', 'family_bed')
              .where(alarmScopeFilter(access.alarmScope))
              .where('alarms.raised_at', '>=', from)
              .where('alarms.raised_at', '<=', to)
              .where('alarms.test', '=', 0)
              .where('alarms.type', 'not in', TECHNICAL)
              .orderBy('alarms.raised_at', 'desc')
              .limit(MAX_KPI_ALARMS)
              .execute();
      const kpiVisible = kpiRows.filter((r) => access.canSeeSite(r.site_id));
      const kpiOnSite = new Map(
        (
          await chunked(
            kpiVisible.map((r) => r.id),
            (part) =>
              db
                .selectFrom('audit')
                .select(['alarm_id', (eb) => eb.fn.min<string>('at').as('at')])
                .where('action', '=', 'on_site')
                .where('alarm_id', 'in', part)
                .groupBy('alarm_id')
                .execute(),
          )
        ).map((r) => [r.alarm_id as string, r.at]),
      );
      const firstSiteAt = new Map<number, string | null>();
      for (const r of kpiVisible) if (!firstSiteAt.has(Number(r.escalation_level))) firstSiteAt.set(Number(r.escalation_level), r.site_id);
      const levels = levelKpis(
        kpiVisible.map((r) => ({
          level: Number(r.escalation_level),
          raisedAt: r.raised_at,
          ackAt: r.ack_at,
          onSiteAt: kpiOnSite.get(r.id) ?? null,
        })),
        (level) => policies.get(firstSiteAt.get(level) ?? null).levels[level]?.name ?? `level ${level}`,
        targets,
      );
      return { mapTileUrl: opts.mapTileUrl, from, to, targets, homes, levels };
    },
  );
};

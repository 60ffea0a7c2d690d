// Registry endpoints (admin creates; staff read what their scope allows): sites, residents,
// gateways (the secret is returned once, at creation), devices, users, resident settings.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import Type from 'typebox';
import { Device, Gateway, GatewayWithSecret, IdParams, Lists, Resident, ROLES, SITE_KINDS, Site, User } from '../../protocol/api.ts';
import { E164, SiteHomeFields } from '../../protocol/areas.ts';
import { DEVICE_KINDS, ID_PATTERN, type IdSource } from '../../protocol/index.ts';
import type { DeviceTests } from '../alarms/device-tests.ts';
import { ResidentSettings } from '../alarms/settings.ts';
import { GATEWAY_SECRET_COST, generateSecret, hashSecret } from '../security/passwords.ts';
import { appendAudit } from '../storage/alarms.ts';
import { createAreaStore } from '../storage/areas.ts';
import type { Db, Registry } from '../storage/registry.ts';
import type { UserStore } from '../storage/users.ts';
import { checkSiteHome } from './areas.ts';
import { ApiError, badRequest, conflict, forbidden, notFound } from './errors.ts';
import { auditResidentView } from './privacy.ts';

const TopicId = Type.String({ pattern: ID_PATTERN, maxLength: 64 });
const Name = Type.String({ minLength: 1, maxLength: 200 });

function requireAdmin(req: FastifyRequest) {
  if (!req.access.isAdmin) throw forbidden('administrators only');
}

function validTimezone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/**
 * Gateway credentials: the embedded broker reads them from the database; an external broker has
 * them provisioned. `created` runs before the gateway is stored, so a refusal stores nothing.
 */
export interface GatewayCredentials {
  created(g: { id: string; siteId: string; secret: string }): Promise<void>;
  secretChanged(id: string, secret: string): Promise<void>;
  revoked(id: string): Promise<void>;
}

/** What the registry's routes use of the server. */
export interface RegistryRouteOptions {
  db: Db;
  registry: Registry;
  users: UserStore;
  ids: IdSource;
  now: () => string;
  gatewayCredentials: GatewayCredentials;
  deviceTests: Pick<DeviceTests, 'start' | 'list'>;
}

export const registryRoutes: FastifyPluginAsyncTypebox<RegistryRouteOptions> = async (app, opts) => {
  const { db, registry, users, ids, now, gatewayCredentials, deviceTests } = opts;
  app.addHook('onRequest', app.authenticate);

  // Sites
  app.post(
    '/api/v1/sites',
    {
      schema: {
        tags: ['registry'],
        body: Type.Object(
          {
            id: Type.Optional(TopicId),
            name: Name,
            kind: Type.Enum(SITE_KINDS),
            timezone: Type.Optional(Type.String({ maxLength: 64 })),
            // Where the home is and who answers for it (areas.ts; also PUT /api/v1/sites/:id/home).
            ...SiteHomeFields,
          },
          { additionalProperties: false },
        ),
        response: { 201: Site },
      },
    },
    async (req, reply) => {
      requireAdmin(req);
      const { areaId, address, lat, lon, gridWorkerId, ...b } = req.body;
      const timezone = b.timezone ?? Intl.DateTimeFormat().resolvedOptions().timeZone;
      if (!validTimezone(timezone)) throw badRequest(`unknown timezone ${timezone}`);
      const id = b.id ?? `site-${ids.next().toLowerCase()}`;
      if (await registry.getSite(id)) throw conflict(`site ${id} exists`);
      const home = { areaId, address, lat, lon, gridWorkerId };
      const areas = createAreaStore(db);
      await checkSiteHome({ db, areas }, req.access, home);
      const site = await registry.createSite({ id, name: b.name, kind: b.kind, timezone }, now());
      await areas.setSiteHome(id, home);
      return reply.code(201).send({ ...site, ...(await areas.siteHome(id)) });
    },
  );
  app.get('/api/v1/sites', { schema: { tags: ['registry'], response: { 200: Lists.sites } } }, async (req) => ({
    sites: (await registry.listSites()).filter((s) => req.access.canSeeSite(s.id) || req.access.user.siteId === s.id),
  }));
  app.get('/api/v1/sites/:id', { schema: { tags: ['registry'], params: IdParams, response: { 200: Site } } }, async (req) => {
    const { id } = req.params;
    const site = await registry.getSite(id);
    if (!site || !(req.access.canSeeSite(id) || req.access.user.siteId === id)) throw notFound('site', id);
    return site;
  });

  // Residents
  app.post(
    '/api/v1/residents',
    {
      schema: {
        tags: ['registry'],
        body: Type.Object(
          {
            id: Type.Optional(TopicId),
            siteId: Type.String({ maxLength: 64 }),
            name: Name,
            room: Type.String({ minLength: 1, maxLength: 50 }),
            bed: Type.Optional(Type.String({ maxLength: 50 })),
            settings: Type.Optional(ResidentSettings),
          },
          { additionalProperties: false },
        ),
        response: { 201: Resident },
      },
    },
    async (req, reply) => {
      requireAdmin(req);
      const b = req.body;
      if (!(await registry.getSite(b.siteId))) throw badRequest(`site ${b.siteId} does not exist`);
      const id = b.id ?? `res-${ids.next().toLowerCase()}`;
      if (await registry.getResident(id)) throw conflict(`resident ${id} exists`);
      const r = await registry.createResident(
        { id, siteId: b.siteId, name: b.name, room: b.room, bed: b.bed ?? null, settings: b.settings ?? {} },
        now(),
      );
      return reply.code(201).send(r);
    },
  );
  app.get(
    '/api/v1/residents',
    {
      schema: {
        tags: ['registry'],
        querystring: Type.Object({ siteId: Type.Optional(Type.String({ maxLength: 64 })) }, { additionalProperties: false }),
        response: { 200: Lists.residents },
      },
    },
    async (req) => {
      const { siteId } = req.query;
      return { residents: (await registry.listResidents(siteId)).filter((r) => req.access.canSeeResident(r)) };
    },
  );
  app.get('/api/v1/residents/:id', { schema: { tags: ['registry'], params: IdParams, response: { 200: Resident } } }, async (req) => {
    const { id } = req.params;
    const r = await registry.getResident(id);
    if (!r || !req.access.canSeeResident(r)) throw notFound('resident', id);
    await auditResidentView({ db, now }, req, id, 'profile');
    return r;
  });
  app.put(
    '/api/v1/residents/:id/settings',
    { schema: { tags: ['registry'], params: IdParams, body: ResidentSettings, response: { 200: Type.Unknown() } } },
    async (req) => {
      requireAdmin(req);
      const { id } = req.params;
      const r = await registry.getResident(id);
      if (!r) throw notFound('resident', id);
      const merged = { ...r.settings, ...req.body };
      await registry.updateResidentSettings(id, merged);
      return merged;
    },
  );

  // Gateways
  app.post(
    '/api/v1/gateways',
    {
      schema: {
        tags: ['registry'],
        body: Type.Object(
          { id: Type.Optional(TopicId), siteId: Type.String({ maxLength: 64 }), name: Name },
          { additionalProperties: false },
        ),
        response: { 201: GatewayWithSecret },
      },
    },
    async (req, reply) => {
      requireAdmin(req);
      const b = req.body;
      if (!(await registry.getSite(b.siteId))) throw badRequest(`site ${b.siteId} does not exist`);
      const id = b.id ?? `gw-${ids.next().toLowerCase()}`;
      if (await registry.getGateway(id)) throw conflict(`gateway ${id} exists`);
      const secret = generateSecret();
      try {
        await gatewayCredentials.created({ id, siteId: b.siteId, secret });
      } catch (err) {
        throw new ApiError(502, 'BROKER_REFUSED', `the MQTT broker did not take the gateway's credentials: ${(err as Error).message}`);
      }
      const gw = await registry.createGateway(
        { id, siteId: b.siteId, name: b.name, secretHash: await hashSecret(secret, GATEWAY_SECRET_COST) },
        now(),
      );
      req.log.info({ gatewayId: id }, 'gateway registered');
      return reply.code(201).send({ ...gw, secret });
    },
  );
  // Rotation issues a new secret (shown once) and drops the current connection; revocation leaves
  // the gateway unable to connect at all until a new secret is issued.
  app.post(
    '/api/v1/gateways/:id/secret',
    { schema: { tags: ['registry'], params: IdParams, response: { 200: Type.Object({ id: Type.String(), secret: Type.String() }) } } },
    async (req) => {
      requireAdmin(req);
      const { id } = req.params;
      if (!(await registry.getGateway(id))) throw notFound('gateway', id);
      const secret = generateSecret();
      await registry.setGatewaySecretHash(id, await hashSecret(secret, GATEWAY_SECRET_COST));
      await gatewayCredentials.secretChanged(id, secret);
      await appendAudit(db, { at: now(), actor: req.access.user.username, action: 'gateway.secret_rotated', subject: id });
      req.log.warn({ gatewayId: id }, 'gateway secret rotated');
      return { id, secret };
    },
  );
  app.delete('/api/v1/gateways/:id/secret', { schema: { tags: ['registry'], params: IdParams } }, async (req) => {
    requireAdmin(req);
    const { id } = req.params;
    if (!(await registry.getGateway(id))) throw notFound('gateway', id);
    await registry.setGatewaySecretHash(id, 'revoked', 'revoked');
    await gatewayCredentials.revoked(id);
    await appendAudit(db, { at: now(), actor: req.access.user.username, action: 'gateway.revoked', subject: id });
    req.log.warn({ gatewayId: id }, 'gateway revoked');
    return { id, state: 'revoked' };
  });

  app.get('/api/v1/gateways', { schema: { tags: ['registry'], response: { 200: Lists.gateways } } }, async (req) => ({
    gateways: (await registry.listGateways()).filter((g) => req.access.canSeeSite(g.siteId)),
  }));
  app.get('/api/v1/gateways/:id', { schema: { tags: ['registry'], params: IdParams, response: { 200: Gateway } } }, async (req) => {
    const { id } = req.params;
    const g = await registry.getGateway(id);
    if (!g || !req.access.canSeeSite(g.siteId)) throw notFound('gateway', id);
    return g;
  });

  // Devices
  app.post(
    '/api/v1/devices',
    {
      schema: {
        tags: ['registry'],
        body: Type.Object(
          {
            id: TopicId,
            gatewayId: Type.String({ maxLength: 64 }),
            kind: Type.Enum(DEVICE_KINDS),
            residentId: Type.Optional(Type.String({ maxLength: 64 })),
            room: Type.Optional(Type.String({ maxLength: 50 })),
            /** How long the device may be silent before it is reported offline; default by kind. */
            supervisionSeconds: Type.Optional(Type.Integer({ minimum: 60, maximum: 7 * 86_400 })),
          },
          { additionalProperties: false },
        ),
        response: { 201: Device },
      },
    },
    async (req, reply) => {
      requireAdmin(req);
      const b = req.body;
      const gw = await registry.getGateway(b.gatewayId);
      if (!gw) throw badRequest(`gateway ${b.gatewayId} does not exist`);
      let room = b.room ?? null;
      if (b.residentId) {
        const r = await registry.getResident(b.residentId);
        if (!r) throw badRequest(`resident ${b.residentId} does not exist`);
        if (r.siteId !== gw.siteId) throw badRequest('resident and gateway belong to different sites');
        room ??= r.room;
      }
      if (await registry.getDevice(b.id)) throw conflict(`device ${b.id} exists`);
      const d = await registry.createDevice(
        {
          id: b.id,
          gatewayId: b.gatewayId,
          kind: b.kind,
          residentId: b.residentId ?? null,
          room,
          supervisionSeconds: b.supervisionSeconds ?? null,
        },
        now(),
      );
      return reply.code(201).send(d);
    },
  );
  app.get(
    '/api/v1/devices',
    {
      schema: {
        tags: ['registry'],
        querystring: Type.Object(
          { gatewayId: Type.Optional(Type.String({ maxLength: 64 })), residentId: Type.Optional(Type.String({ maxLength: 64 })) },
          { additionalProperties: false },
        ),
        response: { 200: Lists.devices },
      },
    },
    async (req) => {
      const devices = await registry.listDevices(req.query);
      if (req.access.isAdmin) return { devices };
      const gateways = new Map((await registry.listGateways()).map((g) => [g.id, g.siteId]));
      return { devices: devices.filter((d) => req.access.canSeeSite(gateways.get(d.gatewayId) ?? null)) };
    },
  );
  // Device tests: the next alarm from the device within the window is a test alarm and passes the
  // test; silence past the window fails it and raises a technical alarm.
  app.post(
    '/api/v1/devices/:id/test',
    {
      schema: {
        tags: ['registry'],
        params: IdParams,
        body: Type.Optional(
          Type.Object({ windowSeconds: Type.Optional(Type.Integer({ minimum: 10, maximum: 3600 })) }, { additionalProperties: false }),
        ),
      },
    },
    async (req, reply) => {
      if (!req.access.canAct) throw forbidden();
      const { id } = req.params;
      const d = await registry.getDevice(id);
      const g = d && (await registry.getGateway(d.gatewayId));
      if (!d || !g || !req.access.canSeeSite(g.siteId)) throw notFound('device', id);
      const windowSeconds = req.body?.windowSeconds ?? 300;
      const test = await deviceTests.start(id, req.access.user.username, windowSeconds, `test-${ids.next().toLowerCase()}`);
      return reply.code(201).send(test);
    },
  );
  app.get('/api/v1/devices/:id/tests', { schema: { tags: ['registry'], params: IdParams } }, async (req) => {
    const { id } = req.params;
    const d = await registry.getDevice(id);
    const g = d && (await registry.getGateway(d.gatewayId));
    if (!d || !g || !req.access.canSeeSite(g.siteId)) throw notFound('device', id);
    const rows = await deviceTests.list(id);
    return {
      tests: rows.map((t) => ({
        id: t.id,
        startedAt: t.started_at,
        dueAt: t.due_at,
        result: t.result,
        finishedAt: t.finished_at,
        alarmId: t.alarm_id,
        by: t.requested_by,
      })),
    };
  });

  app.get('/api/v1/devices/:id', { schema: { tags: ['registry'], params: IdParams, response: { 200: Device } } }, async (req) => {
    const { id } = req.params;
    const d = await registry.getDevice(id);
    const g = d && (await registry.getGateway(d.gatewayId));
    if (!d || !g || !req.access.canSeeSite(g.siteId)) throw notFound('device', id);
    return d;
  });

  // Users (staff and family accounts)
  app.post(
    '/api/v1/users',
    {
      schema: {
        tags: ['registry'],
        body: Type.Object(
          {
            username: Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9_.@-]+$' }),
            password: Type.String({ minLength: 10, maxLength: 200 }),
            role: Type.Enum(ROLES),
            displayName: Type.Optional(Type.String({ maxLength: 200 })),
            siteId: Type.Optional(Type.String({ maxLength: 64 })),
            residentId: Type.Optional(Type.String({ maxLength: 64 })),
            /** E.164, for SMS to this person. */
            phone: Type.Optional(E164),
            /** A centre operator's area (required for one). */
            areaId: Type.Optional(Type.String({ maxLength: 64 })),
          },
          { additionalProperties: false },
        ),
        response: { 201: User },
      },
    },
    async (req, reply) => {
      requireAdmin(req);
      const b = req.body;
      if (b.role === 'family' && !b.residentId) throw badRequest('a family account needs residentId');
      if (b.role === 'centre_operator' && !b.areaId) throw badRequest('a centre operator needs areaId');
      if (b.areaId && !(await createAreaStore(db).get(b.areaId))) throw badRequest(`area ${b.areaId} does not exist`);
      if (await users.findForLogin(b.username)) throw conflict(`user ${b.username} exists`);
      const user = await users.create(
        {
          id: `usr-${ids.next().toLowerCase()}`,
          username: b.username,
          role: b.role,
          displayName: b.displayName ?? null,
          siteId: b.siteId ?? null,
          residentId: b.residentId ?? null,
          phone: b.phone ?? null,
          areaId: b.areaId ?? null,
          passwordHash: await hashSecret(b.password),
        },
        now(),
      );
      return reply.code(201).send(user);
    },
  );
  app.get('/api/v1/users', { schema: { tags: ['registry'], response: { 200: Lists.users } } }, async (req) => {
    requireAdmin(req);
    return { users: await users.list() };
  });
};

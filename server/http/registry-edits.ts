// Editing what was registered (administrators): PATCH a site (name, kind, time zone), a resident
// (name, room, bed, settings: a move to another room takes their devices along), a device
// (re-assign it to another gateway, resident or room, or change its silence limit). Only the
// properties sent change; each change is in the audit trail with what it was and what it became.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import Type, { type TSchema } from 'typebox';
import { Device, IdParams, Resident, SITE_KINDS, Site } from '../../protocol/api.ts';
import { ResidentSettings } from '../alarms/settings.ts';
import { appendAudit } from '../storage/alarms.ts';
import type { Db, Registry } from '../storage/registry.ts';
import type { RegistryEdits } from '../storage/registry-edits.ts';
import { badRequest, forbidden, notFound } from './errors.ts';

// Null first: the API's Ajv coerces types, and with the string first a null would be taken as "".
const Nullable = <T extends TSchema>(t: T) => Type.Union([Type.Null(), t]);

export const SitePatch = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    kind: Type.Optional(Type.Enum(SITE_KINDS)),
    timezone: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  },
  { additionalProperties: false },
);
export const ResidentPatch = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    room: Type.Optional(Type.String({ minLength: 1, maxLength: 50 })),
    bed: Type.Optional(Nullable(Type.String({ maxLength: 50 }))),
    /** Merged into the current settings, as PUT .../settings does. */
    settings: Type.Optional(ResidentSettings),
  },
  { additionalProperties: false },
);
export const DevicePatch = Type.Object(
  {
    gatewayId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    /** null: no longer anyone's (e.g. a spare button on the shelf). */
    residentId: Type.Optional(Nullable(Type.String({ maxLength: 64 }))),
    /** Absent with a new resident: the resident's room. */
    room: Type.Optional(Nullable(Type.String({ maxLength: 50 }))),
    /** null: the kind's default. */
    supervisionSeconds: Type.Optional(Nullable(Type.Integer({ minimum: 60, maximum: 7 * 86_400 }))),
  },
  { additionalProperties: false },
);

export interface RegistryEditOptions {
  db: Db;
  registry: Pick<Registry, 'getSite' | 'getResident' | 'getGateway' | 'getDevice'>;
  edits: RegistryEdits;
  now: () => string;
}

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

/** What changed, property by property ({room: {from: '203', to: '305'}}); unchanged ones left out. */
export function changes<T extends object>(before: T, after: T): Record<string, { from: unknown; to: unknown }> {
  const out: Record<string, { from: unknown; to: unknown }> = {};
  const b = before as Record<string, unknown>;
  for (const [k, v] of Object.entries(after)) {
    if (JSON.stringify(b[k] ?? null) !== JSON.stringify(v ?? null)) out[k] = { from: b[k] ?? null, to: v ?? null };
  }
  return out;
}

export const registryEditRoutes: FastifyPluginAsyncTypebox<RegistryEditOptions> = async (app, { db, registry, edits, now }) => {
  app.addHook('onRequest', app.authenticate);

  const audit = async (req: FastifyRequest, action: string, subject: string, detail: Record<string, unknown>) => {
    if (Object.keys(detail.changed ?? {}).length === 0) return;
    await appendAudit(db, { at: now(), actor: req.access.user.username, action, subject, detail });
  };

  app.patch(
    '/api/v1/sites/:id',
    { schema: { tags: ['registry'], params: IdParams, body: SitePatch, response: { 200: Site } } },
    async (req) => {
      requireAdmin(req);
      const { id } = req.params;
      if (req.body.timezone !== undefined && !validTimezone(req.body.timezone)) throw badRequest(`unknown timezone ${req.body.timezone}`);
      const row = await edits.site(id, req.body);
      if (!row) throw notFound('site', id);
      await audit(req, 'site.updated', id, { changed: changes(row.before, row.after) });
      return (await registry.getSite(id)) ?? notFoundAfter('site', id);
    },
  );

  app.patch(
    '/api/v1/residents/:id',
    { schema: { tags: ['registry'], params: IdParams, body: ResidentPatch, response: { 200: Resident } } },
    async (req) => {
      requireAdmin(req);
      const { id } = req.params;
      const current = await registry.getResident(id);
      if (!current) throw notFound('resident', id);
      const { settings, ...rest } = req.body;
      const row = await edits.resident(id, { ...rest, ...(settings ? { settings: { ...current.settings, ...settings } } : {}) });
      if (!row) throw notFound('resident', id);
      const { settings: s0, ...before } = row.before;
      const { settings: s1, ...after } = row.after;
      const changed = changes(before, after);
      if (s0 !== s1) changed.settings = { from: JSON.parse(s0), to: JSON.parse(s1) };
      await audit(req, 'resident.updated', id, { changed, ...(row.devicesMoved.length ? { devicesMoved: row.devicesMoved } : {}) });
      return (await registry.getResident(id)) ?? notFoundAfter('resident', id);
    },
  );

  app.patch(
    '/api/v1/devices/:id',
    { schema: { tags: ['registry'], params: IdParams, body: DevicePatch, response: { 200: Device } } },
    async (req) => {
      requireAdmin(req);
      const { id } = req.params;
      const device = await registry.getDevice(id);
      if (!device) throw notFound('device', id);
      const b = req.body;
      const gatewayId = b.gatewayId ?? device.gatewayId;
      const gateway = await registry.getGateway(gatewayId);
      if (!gateway) throw badRequest(`gateway ${gatewayId} does not exist`);
      const residentId = b.residentId === undefined ? device.residentId : b.residentId;
      let room = b.room;
      if (residentId !== null) {
        const r = await registry.getResident(residentId);
        if (!r) throw badRequest(`resident ${residentId} does not exist`);
        // A device sends through its gateway: its resident must live on that gateway's site.
        if (r.siteId !== gateway.siteId)
          throw badRequest(`resident ${residentId} is not on gateway ${gatewayId}'s site: choose a resident there, or none (null)`);
        if (room === undefined && b.residentId !== undefined && b.residentId !== device.residentId) room = r.room;
      }
      const row = await edits.device(id, {
        gatewayId: b.gatewayId,
        residentId: b.residentId,
        room,
        supervisionSeconds: b.supervisionSeconds,
      });
      if (!row) throw notFound('device', id);
      await audit(req, 'device.updated', id, { changed: changes(row.before, row.after) });
      return (await registry.getDevice(id)) ?? notFoundAfter('device', id);
    },
  );
};

/** Deleted between the update and the read back (another administrator): say so, do not answer 200 with nothing. */
function notFoundAfter(what: string, id: string): never {
  throw notFound(what, id);
}

// Shifts: who is on duty where (admins and nurse leads plan them).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { Deleted, Lists, Shift as ShiftSchema } from '../../protocol/api.ts';
import type { Shifts } from '../alarms/shifts.ts';
import type { Metrics } from '../metrics.ts';
import type { Db, Registry } from '../storage/registry.ts';
import type { UserStore } from '../storage/users.ts';
import { badRequest, forbidden, notFound } from './errors.ts';

export interface ShiftRouteOptions {
  db: Db;
  registry: Pick<Registry, 'getSite'>;
  users: Pick<UserStore, 'list'>;
  shifts: Shifts;
  metrics: Metrics;
  /** A new shift's id. */
  ids: { next(): string };
}

export const shiftRoutes: FastifyPluginAsyncTypebox<ShiftRouteOptions> = async (app, ctx) => {
  app.addHook('onRequest', app.authenticate);
  const mayPlan = (role: string) => role === 'admin' || role === 'nurse_lead';

  app.post(
    '/api/v1/shifts',
    {
      schema: {
        tags: ['shifts'],
        body: Type.Object(
          {
            siteId: Type.String({ maxLength: 64 }),
            userId: Type.String({ maxLength: 64 }),
            rooms: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 50 }), { maxItems: 200 })),
            start: Type.String({ format: 'date-time' }),
            end: Type.String({ format: 'date-time' }),
          },
          { additionalProperties: false },
        ),
        response: { 201: ShiftSchema },
      },
    },
    async (req, reply) => {
      const b = req.body;
      if (!mayPlan(req.access.user.role) || !req.access.canSeeSite(b.siteId)) throw forbidden('administrators and nurse leads plan shifts');
      if (!(await ctx.registry.getSite(b.siteId))) throw badRequest(`site ${b.siteId} does not exist`);
      // Staff of this site (or of no site in particular) only: another site's account, or a family
      // one, answers like a missing user, so its id is not confirmed either.
      const staff = (await ctx.users.list()).find((u) => u.id === b.userId);
      if (!staff || staff.role === 'family' || (staff.siteId !== null && staff.siteId !== b.siteId))
        throw badRequest(`user ${b.userId} does not exist on site ${b.siteId}`);
      const start = new Date(b.start).toISOString();
      const end = new Date(b.end).toISOString();
      if (end <= start) throw badRequest('end must be after start');
      const s = await ctx.shifts.create(
        { siteId: b.siteId, userId: b.userId, rooms: b.rooms ?? null, start, end },
        `shift-${ctx.ids.next().toLowerCase()}`,
      );
      return reply.code(201).send(s);
    },
  );

  app.get(
    '/api/v1/shifts',
    {
      schema: {
        tags: ['shifts'],
        querystring: Type.Object(
          { siteId: Type.Optional(Type.String({ maxLength: 64 })), activeAt: Type.Optional(Type.String({ format: 'date-time' })) },
          { additionalProperties: false },
        ),
        response: { 200: Lists.shifts },
      },
    },
    async (req) => {
      const q = req.query;
      const shifts = await ctx.shifts.list({ siteId: q.siteId, activeAt: q.activeAt && new Date(q.activeAt).toISOString() });
      return { shifts: shifts.filter((s) => req.access.canSeeSite(s.siteId)) };
    },
  );

  app.delete(
    '/api/v1/shifts/:id',
    { schema: { tags: ['shifts'], params: Type.Object({ id: Type.String({ maxLength: 80 }) }), response: { 200: Deleted } } },
    async (req) => {
      if (!mayPlan(req.access.user.role)) throw forbidden('administrators and nurse leads plan shifts');
      const { id } = req.params;
      // Another site's shift answers like a missing one: its id is not confirmed.
      const shift = await ctx.db.selectFrom('shifts').select('site_id').where('id', '=', id).executeTakeFirst();
      if (shift && !req.access.canSeeSite(shift.site_id)) {
        ctx.metrics.securityEvents.inc({ kind: 'out_of_scope' });
        req.log.warn({ shiftId: id, userId: req.access.user.id }, 'security: deleting another site’s shift refused');
      }
      if (!shift || !req.access.canSeeSite(shift.site_id)) throw notFound('shift', id);
      if (!(await ctx.shifts.remove(id))) throw notFound('shift', id);
      return { id, deleted: true };
    },
  );
};

// Privacy: every read of a resident's data is audited; an administrator can export one resident's
// data (the right of access) or delete it (the right to erasure). Alarms of a deleted resident stay
// in the audit trail, detached from the person.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Deleted, IdParams } from '../../protocol/api.ts';
import { type AlarmStore, appendAudit } from '../storage/alarms.ts';
import type { Db, Registry } from '../storage/registry.ts';
import { forbidden, notFound } from './errors.ts';

/** A read of one resident's data goes in the audit trail (who, when, what). */
export async function auditResidentView(
  ctx: { db: Db; now: () => string },
  req: FastifyRequest,
  residentId: string,
  what: string,
): Promise<void> {
  await appendAudit(ctx.db, {
    at: ctx.now(),
    actor: req.access.user.username,
    action: 'view.resident',
    subject: residentId,
    detail: { what },
  });
}

export interface PrivacyRouteOptions {
  db: Db;
  registry: Pick<Registry, 'getResident' | 'listDevices'>;
  alarms: Pick<AlarmStore, 'list'>;
  now: () => string;
}

export const privacyRoutes: FastifyPluginAsyncTypebox<PrivacyRouteOptions> = async (app, ctx) => {
  app.addHook('onRequest', app.authenticate);

  app.get('/api/v1/residents/:id/export', { schema: { tags: ['privacy'], params: IdParams } }, async (req) => {
    if (!req.access.isAdmin) throw forbidden('administrators only');
    const { id } = req.params;
    const resident = await ctx.registry.getResident(id);
    if (!resident) throw notFound('resident', id);
    await appendAudit(ctx.db, { at: ctx.now(), actor: req.access.user.username, action: 'resident.exported', subject: id });
    const alarms = await ctx.alarms.list({ residentId: id, limit: 100_000 });
    const telemetry = await ctx.db.selectFrom('telemetry').selectAll().where('resident_id', '=', id).orderBy('ts').execute();
    const audit = await ctx.db.selectFrom('audit').selectAll().where('subject', '=', id).orderBy('id').execute();
    return {
      exportedAt: ctx.now(),
      resident,
      devices: await ctx.registry.listDevices({ residentId: id }),
      alarms,
      telemetry: telemetry.map((t) => ({ ts: t.ts, metric: t.metric, value: t.value, device: t.device_id })),
      audit: audit.map((a) => ({
        at: a.at,
        actor: a.actor,
        action: a.action,
        detail: a.detail ? (JSON.parse(a.detail) as unknown) : null,
      })),
    };
  });

  app.delete('/api/v1/residents/:id', { schema: { tags: ['privacy'], params: IdParams, response: { 200: Deleted } } }, async (req) => {
    if (!req.access.isAdmin) throw forbidden('administrators only');
    const { id } = req.params;
    if (!(await ctx.registry.getResident(id))) throw notFound('resident', id);
    await ctx.db.transaction().execute(async (tx) => {
      await tx.deleteFrom('telemetry').where('resident_id', '=', id).execute();
      await tx.updateTable('devices').set({ resident_id: null }).where('resident_id', '=', id).execute();
      await tx.updateTable('alarms').set({ resident_id: null }).where('resident_id', '=', id).execute();
      await tx.updateTable('users').set({ resident_id: null }).where('resident_id', '=', id).execute();
      await tx.deleteFrom('residents').where('id', '=', id).execute();
      await appendAudit(tx, { at: ctx.now(), actor: req.access.user.username, action: 'resident.deleted', subject: id });
    });
    req.log.warn({ residentId: id }, 'resident data deleted');
    return { id, deleted: true };
  });
};

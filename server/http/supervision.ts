// A site's supervision settings: the commissioning grace, how long a registered gateway or device
// may stay unheard past its own silence limit before it is flagged offline (time to install it).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { SupervisionSettings as Answer, IdParams } from '../../protocol/api.ts';
import { DEFAULT_COMMISSIONING_GRACE_SECONDS } from '../alarms/supervision.ts';
import { appendAudit } from '../storage/alarms.ts';
import type { Db } from '../storage/registry.ts';
import { forbidden, notFound } from './errors.ts';

const Settings = Type.Object({
  /** Null: the default. At most 30 days: past that a device nobody installed is forgotten, not supervised. */
  commissioningGraceMinutes: Type.Union([Type.Integer({ minimum: 0, maximum: 43_200 }), Type.Null()]),
});

export interface SupervisionRouteOptions {
  db: Db;
  now: () => string;
}

export const supervisionRoutes: FastifyPluginAsyncTypebox<SupervisionRouteOptions> = async (app, ctx) => {
  app.addHook('onRequest', app.authenticate);

  async function read(siteId: string) {
    const row = await ctx.db.selectFrom('sites').select('commissioning_grace_seconds').where('id', '=', siteId).executeTakeFirst();
    if (!row) return null;
    const seconds = row.commissioning_grace_seconds ?? null;
    return {
      commissioningGraceMinutes: Math.round((seconds ?? DEFAULT_COMMISSIONING_GRACE_SECONDS) / 60),
      default: seconds === null,
    };
  }

  app.get('/api/v1/sites/:id/supervision', { schema: { tags: ['registry'], params: IdParams, response: { 200: Answer } } }, async (req) => {
    const { id } = req.params;
    const settings = req.access.canSeeSite(id) ? await read(id) : null;
    if (!settings) throw notFound('site', id);
    return settings;
  });

  app.put(
    '/api/v1/sites/:id/supervision',
    { schema: { tags: ['registry'], params: IdParams, body: Settings, response: { 200: Answer } } },
    async (req) => {
      if (!req.access.isAdmin) throw forbidden('administrators only');
      const { id } = req.params;
      const minutes = req.body.commissioningGraceMinutes;
      const r = await ctx.db
        .updateTable('sites')
        .set({ commissioning_grace_seconds: minutes === null ? null : minutes * 60 })
        .where('id', '=', id)
        .executeTakeFirst();
      if (Number(r.numUpdatedRows) !== 1) throw notFound('site', id);
      await appendAudit(ctx.db, {
        at: ctx.now(),
        actor: req.access.user.username,
        action: 'site.supervision_changed',
        subject: id,
        detail: { commissioningGraceMinutes: minutes },
      });
      const settings = await read(id);
      if (!settings) throw notFound('site', id);
      return settings;
    },
  );
};

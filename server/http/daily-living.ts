// Where residents were last seen (the overview's "last known room"), from the daily-living watch's
// table, for the residents the caller may see.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync } from 'fastify';
import Type from 'typebox';
import { Whereabouts } from '../../protocol/api.ts';
import type { Db } from '../storage/registry.ts';

export interface DailyLivingRouteOptions {
  db: Db;
}

/** At most this many residents in one answer (a screen covers a few hundred beds). */
const MAX_ROWS = 5000;

export const dailyLivingRoutes: FastifyPluginAsync<DailyLivingRouteOptions> = async (base, opts) => {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  app.addHook('onRequest', app.authenticate);
  app.get(
    '/api/v1/whereabouts',
    {
      schema: {
        tags: ['daily living'],
        querystring: Type.Object({ siteId: Type.Optional(Type.String({ maxLength: 64 })) }, { additionalProperties: false }),
        response: { 200: Type.Object({ residents: Type.Array(Whereabouts) }) },
      },
    },
    async (req) => {
      let q = opts.db
        .selectFrom('resident_activity')
        .innerJoin('residents', 'residents.id', 'resident_activity.resident_id')
        .select([
          'resident_activity.resident_id as resident_id',
          'residents.site_id as site_id',
          'resident_activity.last_room as last_room',
          'resident_activity.last_motion_at as last_motion_at',
          'resident_activity.present as present',
          'resident_activity.in_bed as in_bed',
        ]);
      if (req.query.siteId) q = q.where('residents.site_id', '=', req.query.siteId);
      const rows = await q.limit(MAX_ROWS).execute();
      return {
        residents: rows
          .filter((r) => req.access.canSeeResident({ id: r.resident_id, siteId: r.site_id }))
          .map((r) => ({
            residentId: r.resident_id,
            lastRoom: r.last_room,
            lastMotionAt: r.last_motion_at,
            present: Boolean(r.present),
            inBed: r.in_bed === null ? null : Boolean(r.in_bed),
          })),
      };
    },
  );
};

// Vital-sign time series for a resident's charts.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { IdParams, TelemetrySeries } from '../../protocol/api.ts';
import { METRICS } from '../../protocol/index.ts';
import type { Db, Registry } from '../storage/registry.ts';
import { bucketSecondsFor, type TelemetryStore } from '../storage/telemetry.ts';
import { ApiError, badRequest, notFound } from './errors.ts';
import { auditResidentView } from './privacy.ts';

export interface TelemetryRouteOptions {
  /** For the audit record of the read. */
  db: Db;
  registry: Pick<Registry, 'getResident'>;
  telemetry: Pick<TelemetryStore, 'query'>;
  now: () => string;
}

export const telemetryRoutes: FastifyPluginAsyncTypebox<TelemetryRouteOptions> = async (app, ctx) => {
  app.addHook('onRequest', app.authenticate);
  app.get(
    '/api/v1/residents/:id/telemetry',
    {
      schema: {
        tags: ['telemetry'],
        params: IdParams,
        querystring: Type.Object(
          {
            metric: Type.Optional(Type.Enum(METRICS)),
            from: Type.Optional(Type.String({ format: 'date-time' })),
            to: Type.Optional(Type.String({ format: 'date-time' })),
          },
          { additionalProperties: false },
        ),
        response: { 200: TelemetrySeries },
      },
    },
    async (req) => {
      const { id } = req.params;
      const q = req.query;
      const resident = await ctx.registry.getResident(id);
      if (!resident || !req.access.canSeeResident(resident)) throw notFound('resident', id);
      await auditResidentView(ctx, req, id, 'telemetry');
      const to = q.to ? new Date(q.to).toISOString() : ctx.now();
      const from = q.from ? new Date(q.from).toISOString() : new Date(Date.parse(to) - 24 * 3600_000).toISOString();
      if (from > to) throw badRequest('from is after to');
      let rows: Awaited<ReturnType<typeof ctx.telemetry.query>>;
      try {
        rows = await ctx.telemetry.query({ residentId: id, metric: q.metric, from, to });
      } catch (err) {
        req.log.warn({ err: (err as Error).message }, 'telemetry store unavailable for a chart');
        throw new ApiError(503, 'TELEMETRY_UNAVAILABLE', 'the telemetry store is not answering; alarms are not affected');
      }
      return {
        residentId: id,
        from,
        to,
        downsampled: bucketSecondsFor(from, to),
        points: rows,
      };
    },
  );
};

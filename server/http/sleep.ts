// The sleep report of one resident: a row per night and averages over the range (the resident page
// shows the last night and the last week). Nights come from server/sleep/sleep-nights.ts.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync } from 'fastify';
import Type from 'typebox';
import { IdParams, type SleepNight, SleepReport } from '../../protocol/api.ts';
import type { Db, Registry } from '../storage/registry.ts';
import { badRequest, notFound } from './errors.ts';
import { auditResidentView } from './privacy.ts';

export interface SleepRouteOptions {
  db: Db;
  registry: Pick<Registry, 'getResident'>;
  now: () => string;
}

const DAY = /^\d{4}-\d{2}-\d{2}/;
/** At most this many nights in one answer. */
const MAX_NIGHTS = 92;

const range = (min: number | null, max: number | null) => (min === null || max === null ? null : { min: Number(min), max: Number(max) });
const average = (values: number[]) =>
  values.length === 0 ? null : Math.round((values.reduce((a, b) => a + b, 0) / values.length) * 10) / 10;

export const sleepRoutes: FastifyPluginAsync<SleepRouteOptions> = async (base, opts) => {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  app.addHook('onRequest', app.authenticate);
  app.get(
    '/api/v1/residents/:id/sleep',
    {
      schema: {
        tags: ['sleep'],
        params: IdParams,
        querystring: Type.Object(
          {
            /** A date (YYYY-MM-DD, the evening a night began) or a date-time; its date is used. */
            from: Type.Optional(Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}', maxLength: 40 })),
            to: Type.Optional(Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}', maxLength: 40 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: SleepReport },
      },
    },
    async (req) => {
      const { id } = req.params;
      const resident = await opts.registry.getResident(id);
      if (!resident || !req.access.canSeeResident(resident)) throw notFound('resident', id);
      const to = (req.query.to ?? opts.now()).match(DAY)?.[0] as string;
      const from = (req.query.from ?? new Date(Date.parse(`${to}T00:00:00.000Z`) - 6 * 86_400_000).toISOString()).match(DAY)?.[0] as string;
      if (Number.isNaN(Date.parse(from)) || Number.isNaN(Date.parse(to))) throw badRequest('from and to must be dates (YYYY-MM-DD)');
      if (from > to) throw badRequest('from is after to');
      await auditResidentView(opts, req, id, 'sleep');
      const rows = await opts.db
        .selectFrom('sleep_nights')
        .selectAll()
        .where('resident_id', '=', id)
        .where('night', '>=', from)
        .where('night', '<=', to)
        .orderBy('night', 'desc')
        .limit(MAX_NIGHTS)
        .execute();
      const nights: SleepNight[] = rows.map((r) => ({
        night: r.night,
        inBedAt: r.in_bed_at,
        asleepAt: r.asleep_at,
        wokeAt: r.woke_at,
        outOfBedAt: r.out_of_bed_at,
        minutesInBed: Number(r.minutes_in_bed),
        minutesAsleep: Number(r.minutes_deep) + Number(r.minutes_light),
        minutesDeep: Number(r.minutes_deep),
        minutesLight: Number(r.minutes_light),
        minutesAwake: Number(r.minutes_awake),
        timesOutOfBed: Number(r.times_out_of_bed),
        heartRate: range(r.hr_min, r.hr_max),
        respRate: range(r.rr_min, r.rr_max),
        score: r.score === null ? null : Number(r.score),
      }));
      return {
        residentId: id,
        from,
        to,
        nights,
        summary: {
          nights: nights.length,
          avgMinutesAsleep: average(nights.map((n) => n.minutesAsleep)),
          avgMinutesInBed: average(nights.map((n) => n.minutesInBed)),
          avgTimesOutOfBed: average(nights.map((n) => n.timesOutOfBed)),
          avgScore: average(nights.flatMap((n) => (n.score === null ? [] : [n.score]))),
        },
      };
    },
  );
};

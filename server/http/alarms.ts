// Alarm endpoints: list, acknowledge, resolve, and one alarm's history.
import type { FastifyPluginAsync } from 'fastify';
import Type from 'typebox';
import { ALARM_STATES, Alarm, type AlarmState } from '../../protocol/index.ts';
import { AlarmError } from '../alarms/engine.ts';
import { decodeCursor, encodeCursor } from '../storage/alarms.ts';
import type { Access } from './access.ts';
import type { HttpContext } from './context.ts';
import { ApiError, forbidden, notFound } from './errors.ts';

const IdParams = Type.Object({ id: Type.String({ maxLength: 64 }) });
export const OUTCOMES = ['false_alarm', 'assisted', 'injured', 'transferred', 'cleared', 'other'] as const;

export const alarmRoutes: FastifyPluginAsync<{ ctx: HttpContext }> = async (app, { ctx }) => {
  app.addHook('onRequest', app.authenticate);

  app.get(
    '/api/v1/alarms',
    {
      schema: {
        tags: ['alarms'],
        querystring: Type.Object(
          {
            state: Type.Optional(Type.Enum(ALARM_STATES)),
            open: Type.Optional(Type.Boolean()),
            siteId: Type.Optional(Type.String({ maxLength: 64 })),
            residentId: Type.Optional(Type.String({ maxLength: 64 })),
            limit: Type.Optional(
              Type.Integer({ minimum: 1, maximum: 2000, description: 'alarms per page besides the active high-priority ones [500]' }),
            ),
            before: Type.Optional(Type.String({ maxLength: 200, description: 'the `next` of the previous page' })),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            alarms: Type.Array(Alarm),
            next: Type.Optional(Type.String({ description: 'pass as `before` for the next page; absent on the last' })),
          }),
        },
      },
    },
    async (req) => {
      const { before, limit, ...filter } = req.query as {
        state?: AlarmState;
        open?: boolean;
        siteId?: string;
        residentId?: string;
        limit?: number;
        before?: string;
      };
      const cursor = before === undefined ? undefined : decodeCursor(before);
      if (cursor === null) throw new ApiError(400, 'BAD_CURSOR', '`before` is not a cursor this server gave');
      // Scoped in the query, before the limit: another site's flood cannot fill this caller's page.
      const page = await ctx.alarms.listForScope(req.access.alarmScope, { ...filter, limit: limit ?? 500, before: cursor });
      return {
        alarms: page.alarms.filter((a) => req.access.canSeeAlarm(a)),
        ...(page.next ? { next: encodeCursor(page.next) } : {}),
      };
    },
  );

  const loadVisible = async (id: string, access: Access) => {
    const alarm = await ctx.alarms.get(id);
    if (!alarm || !access.canSeeAlarm(alarm)) throw notFound('alarm', id);
    return alarm;
  };

  app.get(
    '/api/v1/alarms/:id',
    {
      schema: {
        tags: ['alarms'],
        params: IdParams,
        response: {
          200: Type.Object({
            alarm: Alarm,
            history: Type.Array(Type.Object({ at: Type.String(), actor: Type.String(), action: Type.String(), detail: Type.Unknown() })),
          }),
        },
      },
    },
    async (req) => {
      const { id } = req.params as { id: string };
      const alarm = await loadVisible(id, req.access);
      const history = (await ctx.alarms.history(id)).map((h) => ({
        at: h.at,
        actor: h.actor,
        action: h.action,
        detail: h.detail ? (JSON.parse(h.detail) as unknown) : null,
      }));
      return { alarm, history };
    },
  );

  const act = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof AlarmError) {
        throw err.code === 'not_found' ? new ApiError(404, 'NOT_FOUND', err.message) : new ApiError(409, 'INVALID_TRANSITION', err.message);
      }
      throw err;
    }
  };

  app.post('/api/v1/alarms/:id/ack', { schema: { tags: ['alarms'], params: IdParams, response: { 200: Alarm } } }, async (req) => {
    const { id } = req.params as { id: string };
    if (!req.access.canAct) throw forbidden();
    await loadVisible(id, req.access);
    return act(() => ctx.engine.acknowledge(id, req.access.user.username));
  });

  app.post(
    '/api/v1/alarms/:id/snooze',
    {
      schema: {
        tags: ['alarms'],
        params: IdParams,
        body: Type.Object({ minutes: Type.Integer({ minimum: 1, maximum: 60 }) }, { additionalProperties: false }),
        response: { 200: Alarm },
      },
    },
    async (req) => {
      const { id } = req.params as { id: string };
      if (!req.access.canAct) throw forbidden();
      await loadVisible(id, req.access);
      return act(() => ctx.engine.snooze(id, req.access.user.username, (req.body as { minutes: number }).minutes));
    },
  );

  app.post('/api/v1/alarms/:id/on-site', { schema: { tags: ['alarms'], params: IdParams, response: { 200: Alarm } } }, async (req) => {
    const { id } = req.params as { id: string };
    if (!req.access.canAct) throw forbidden();
    await loadVisible(id, req.access);
    return act(() => ctx.engine.markOnSite(id, req.access.user.username));
  });

  app.post(
    '/api/v1/alarms/:id/resolve',
    {
      schema: {
        tags: ['alarms'],
        params: IdParams,
        body: Type.Optional(
          Type.Object(
            { note: Type.Optional(Type.String({ maxLength: 2000 })), outcome: Type.Optional(Type.Enum(OUTCOMES)) },
            { additionalProperties: false },
          ),
        ),
        response: { 200: Alarm },
      },
    },
    async (req) => {
      const { id } = req.params as { id: string };
      const body = (req.body ?? {}) as { note?: string; outcome?: string };
      if (!req.access.canAct) throw forbidden();
      await loadVisible(id, req.access);
      return act(() => ctx.engine.resolve(id, req.access.user.username, body.outcome, body.note));
    },
  );
};

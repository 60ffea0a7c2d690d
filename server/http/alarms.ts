// Alarm endpoints: list, acknowledge, resolve, and one alarm's history.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply } from 'fastify';
import Type from 'typebox';
import { AlarmPage, AlarmWithHistory, IdParams } from '../../protocol/api.ts';
import { ALARM_STATES, Alarm } from '../../protocol/index.ts';
import { type AlarmEngine, AlarmError } from '../alarms/engine.ts';
import { type AlarmStore, decodeCursor, encodeCursor } from '../storage/alarms.ts';
import type { Access } from './access.ts';
import type { AlarmPageCache } from './alarm-page-cache.ts';
import { ApiError, forbidden, notFound } from './errors.ts';

/** An answer already serialised by the route's response schema (UTF-8 bytes), sent as it is. */
const sendJson = (reply: FastifyReply, json: Buffer) => reply.type('application/json; charset=utf-8').send(json);

export const OUTCOMES = ['false_alarm', 'assisted', 'injured', 'transferred', 'cleared', 'other'] as const;

export interface AlarmRouteOptions {
  alarms: AlarmStore;
  engine: AlarmEngine;
  /** The list's answers kept until an alarm changes (alarm-page-cache.ts); none: read every time. */
  pages?: AlarmPageCache;
}

export const alarmRoutes: FastifyPluginAsyncTypebox<AlarmRouteOptions> = async (app, { alarms, engine, pages }) => {
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
        response: { 200: AlarmPage },
      },
    },
    async (req, reply) => {
      const { before, limit, ...filter } = req.query;
      const cursor = before === undefined ? undefined : decodeCursor(before);
      if (cursor === null) throw new ApiError(400, 'BAD_CURSOR', '`before` is not a cursor this server gave');
      // Per account (its role and place included) and query: what one caller may see is never
      // served to another.
      const { user } = req.access;
      const key = `${user.id}|${user.role}|${user.siteId ?? ''}|${user.residentId ?? ''}|${req.url}`;
      const cached = pages?.get(key);
      if (cached !== undefined) return sendJson(reply, cached);
      const generation = pages?.generation() ?? 0;
      // Scoped in the query, before the limit: another site's flood cannot fill this caller's page.
      const page = await alarms.listForScope(req.access.alarmScope, { ...filter, limit: limit ?? 500, before: cursor });
      const answer = {
        alarms: page.alarms.filter((a) => req.access.canSeeAlarm(a)),
        ...(page.next ? { next: encodeCursor(page.next) } : {}),
      };
      if (!pages) return answer;
      // Serialised by the route's own response schema, as an uncached answer would be.
      const body = Buffer.from(reply.serializeInput(answer, '200') as string);
      pages.set(key, body, generation);
      return sendJson(reply, body);
    },
  );

  const loadVisible = async (id: string, access: Access) => {
    const alarm = await alarms.get(id);
    if (!alarm || !access.canSeeAlarm(alarm)) throw notFound('alarm', id);
    return alarm;
  };

  app.get(
    '/api/v1/alarms/:id',
    {
      schema: {
        tags: ['alarms'],
        params: IdParams,
        response: { 200: AlarmWithHistory },
      },
    },
    async (req) => {
      const { id } = req.params;
      const alarm = await loadVisible(id, req.access);
      const history = (await alarms.history(id)).map((h) => ({
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
    const { id } = req.params;
    // Anyone who can see the alarm may take it: a family member or responder accepts in their name.
    if (!req.access.canRespond) throw forbidden();
    await loadVisible(id, req.access);
    return act(() => engine.acknowledge(id, req.access.user.username));
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
      const { id } = req.params;
      if (!req.access.canAct) throw forbidden();
      await loadVisible(id, req.access);
      return act(() => engine.snooze(id, req.access.user.username, req.body.minutes));
    },
  );

  app.post('/api/v1/alarms/:id/on-site', { schema: { tags: ['alarms'], params: IdParams, response: { 200: Alarm } } }, async (req) => {
    const { id } = req.params;
    if (!req.access.canRespond) throw forbidden();
    await loadVisible(id, req.access);
    return act(() => engine.markOnSite(id, req.access.user.username));
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
      const { id } = req.params;
      const body = req.body ?? {};
      // Not a family account: the outcome goes into the care record (docs/decisions.md).
      if (!req.access.canResolve) throw forbidden();
      await loadVisible(id, req.access);
      return act(() => engine.resolve(id, req.access.user.username, body.outcome, body.note));
    },
  );
};

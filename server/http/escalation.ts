// Escalation chains per site, the audit log, and the notification outbox that an operator's
// SMS/voice gateway polls.
import type { FastifyPluginAsync } from 'fastify';
import Type from 'typebox';
import { DEVICE_KINDS } from '../../protocol/index.ts';
import { EscalationPolicy } from '../alarms/escalation-policy.ts';
import type { HttpContext } from './context.ts';
import { forbidden, notFound } from './errors.ts';

const IdParams = Type.Object({ id: Type.String({ maxLength: 64 }) });

export const escalationRoutes: FastifyPluginAsync<{ ctx: HttpContext }> = async (app, { ctx }) => {
  app.addHook('onRequest', app.authenticate);

  app.put('/api/v1/sites/:id/escalation', { schema: { tags: ['alarms'], params: IdParams, body: EscalationPolicy } }, async (req) => {
    if (!req.access.isAdmin) throw forbidden('administrators only');
    const { id } = req.params as { id: string };
    if (!(await ctx.registry.getSite(id))) throw notFound('site', id);
    const policy = req.body as EscalationPolicy;
    await ctx.policies.set(id, policy, ctx.now());
    req.log.info({ siteId: id, levels: policy.levels.length }, 'escalation chain updated');
    // The secret is write-only.
    return { ...policy, webhookSecret: policy.webhookSecret ? '(set)' : undefined };
  });

  app.get('/api/v1/sites/:id/escalation', { schema: { tags: ['alarms'], params: IdParams } }, async (req) => {
    const { id } = req.params as { id: string };
    if (!req.access.canSeeSite(id) || !(await ctx.registry.getSite(id))) throw notFound('site', id);
    const policy = ctx.policies.get(id);
    // Who is called (kinds, order, timeouts) is every staff member's to know; the numbers and
    // addresses themselves are an administrator's.
    const levels = req.access.isAdmin
      ? policy.levels
      : policy.levels.map((l) => ({ ...l, contacts: l.contacts.map(({ kind }) => ({ kind })) }));
    return { ...policy, levels, webhookSecret: policy.webhookSecret ? '(set)' : undefined };
  });

  // The weekly device check (a test of every alarm button, as the care standard asks).
  app.put(
    '/api/v1/sites/:id/test-schedule',
    {
      schema: {
        tags: ['alarms'],
        params: IdParams,
        body: Type.Object(
          {
            weekday: Type.Integer({ minimum: 0, maximum: 6 }),
            time: Type.String({ pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$' }),
            windowSeconds: Type.Optional(Type.Integer({ minimum: 60, maximum: 3600 })),
            kinds: Type.Optional(Type.Array(Type.Enum(DEVICE_KINDS), { minItems: 1 })),
          },
          { additionalProperties: false },
        ),
      },
    },
    async (req) => {
      if (!req.access.isAdmin) throw forbidden('administrators only');
      const { id } = req.params as { id: string };
      if (!(await ctx.registry.getSite(id))) throw notFound('site', id);
      const b = req.body as { weekday: number; time: string; windowSeconds?: number; kinds?: string[] };
      const schedule = { weekday: b.weekday, time: b.time, windowSeconds: b.windowSeconds ?? 900, kinds: b.kinds ?? ['call_button'] };
      await ctx.db
        .insertInto('test_schedules')
        .values({ site_id: id, schedule: JSON.stringify(schedule), last_run: null })
        .onConflict((oc) => oc.column('site_id').doUpdateSet({ schedule: JSON.stringify(schedule) }))
        .execute();
      return schedule;
    },
  );

  app.get(
    '/api/v1/audit',
    {
      schema: {
        tags: ['audit'],
        querystring: Type.Object(
          {
            alarmId: Type.Optional(Type.String({ maxLength: 64 })),
            action: Type.Optional(Type.String({ maxLength: 64 })),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 5000 })),
          },
          { additionalProperties: false },
        ),
      },
    },
    async (req) => {
      if (!req.access.isAdmin) throw forbidden('administrators only');
      const q = req.query as { alarmId?: string; action?: string; limit?: number };
      let sel = ctx.db
        .selectFrom('audit')
        .selectAll()
        .orderBy('id', 'desc')
        .limit(q.limit ?? 500);
      if (q.alarmId) sel = sel.where('alarm_id', '=', q.alarmId);
      if (q.action) sel = sel.where('action', '=', q.action);
      const rows = await sel.execute();
      return {
        entries: rows.map((r) => ({
          id: Number(r.id),
          at: r.at,
          actor: r.actor,
          action: r.action,
          alarmId: r.alarm_id,
          subject: r.subject,
          detail: r.detail ? (JSON.parse(r.detail) as unknown) : null,
        })),
      };
    },
  );

  app.get(
    '/api/v1/notifications',
    {
      schema: {
        tags: ['alarms'],
        querystring: Type.Object(
          {
            channel: Type.Optional(Type.Enum(['webhook', 'sms', 'user'] as const)),
            state: Type.Optional(Type.Enum(['pending', 'delivered', 'failed', 'queued'] as const)),
          },
          { additionalProperties: false },
        ),
      },
    },
    async (req) => {
      if (!req.access.isAdmin) throw forbidden('administrators only');
      const rows = await ctx.notifier.list(req.query as { channel?: string; state?: string });
      return {
        notifications: rows.map((r) => ({
          id: r.id,
          alarmId: r.alarm_id,
          level: r.level,
          channel: r.channel,
          target: r.target,
          state: r.state,
          attempts: r.attempts,
          lastError: r.last_error,
          createdAt: r.created_at,
          payload: JSON.parse(r.payload) as unknown,
        })),
      };
    },
  );

  app.post(
    '/api/v1/notifications/:id/receipt',
    {
      schema: {
        tags: ['alarms'],
        params: IdParams,
        body: Type.Object({ status: Type.Enum(['delivered', 'seen', 'accepted'] as const) }, { additionalProperties: false }),
      },
    },
    async (req) => {
      if (!req.access.canAct) throw forbidden();
      const { id } = req.params as { id: string };
      const { status } = req.body as { status: 'delivered' | 'seen' | 'accepted' };
      // Scoped by the alarm's site. Someone who may not see the alarm gets the same 404 as for an
      // id that does not exist, so notification ids cannot be confirmed from another site.
      const row = await ctx.db.selectFrom('notifications').select('alarm_id').where('id', '=', id).executeTakeFirst();
      const alarm = row && (await ctx.alarms.get(row.alarm_id));
      if (alarm && !req.access.canSeeAlarm(alarm)) {
        ctx.metrics.securityEvents.inc({ kind: 'out_of_scope' });
        req.log.warn({ notificationId: id, alarmId: alarm.id, userId: req.access.user.id }, 'security: receipt for another site refused');
      }
      if (!alarm || !req.access.canSeeAlarm(alarm)) throw notFound('notification', id);
      const r = await ctx.notifier.receipt(id, status, req.access.user.username);
      if (!r) throw notFound('notification', id);
      // Accepting means taking the alarm: it is acknowledged in the recipient's name.
      if (status === 'accepted') {
        const current = await ctx.alarms.get(r.alarmId);
        if (current?.state === 'active') await ctx.engine.acknowledge(r.alarmId, `${r.channel}:${r.target}`);
      }
      // A phone number or webhook address is an administrator's to read, not every caregiver's.
      const { target, ...rest } = r;
      return req.access.isAdmin ? r : rest;
    },
  );

  app.post('/api/v1/notifications/:id/delivered', { schema: { tags: ['alarms'], params: IdParams } }, async (req) => {
    if (!req.access.isAdmin) throw forbidden('administrators only');
    const { id } = req.params as { id: string };
    if (!(await ctx.notifier.markDelivered(id, req.access.user.username))) throw notFound('queued notification', id);
    return { id, state: 'delivered' };
  });
};

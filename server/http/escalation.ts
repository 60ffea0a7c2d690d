// Escalation chains per site, the audit log, and the notification outbox that an operator's
// SMS/voice gateway polls.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { IdParams, Lists, NotificationReceipt, TestSchedule } from '../../protocol/api.ts';
import { DEVICE_KINDS } from '../../protocol/index.ts';
import type { AlarmEngine } from '../alarms/engine.ts';
import { EscalationPolicy } from '../alarms/escalation-policy.ts';
import type { Notifier } from '../alarms/notify.ts';
import type { Policies } from '../alarms/policies.ts';
import type { Metrics } from '../metrics.ts';
import type { AlarmStore } from '../storage/alarms.ts';
import type { Db, Registry } from '../storage/registry.ts';
import { forbidden, notFound } from './errors.ts';

export interface EscalationRouteOptions {
  db: Db;
  registry: Pick<Registry, 'getSite'>;
  policies: Policies;
  notifier: Notifier;
  alarms: AlarmStore;
  engine: AlarmEngine;
  metrics: Metrics;
  now: () => string;
}

export const escalationRoutes: FastifyPluginAsyncTypebox<EscalationRouteOptions> = async (app, ctx) => {
  app.addHook('onRequest', app.authenticate);

  app.put('/api/v1/sites/:id/escalation', { schema: { tags: ['alarms'], params: IdParams, body: EscalationPolicy } }, async (req) => {
    if (!req.access.isAdmin) throw forbidden('administrators only');
    const { id } = req.params;
    if (!(await ctx.registry.getSite(id))) throw notFound('site', id);
    const body = req.body;
    // The secret is write-only (a read shows "(set)"), so a chain edited on the screen comes back
    // without it: keep the stored one rather than silently stop signing the site's webhooks.
    const stored = ctx.policies.get(id).webhookSecret;
    const policy = body.webhookSecret || !stored ? body : { ...body, webhookSecret: stored };
    await ctx.policies.set(id, policy, ctx.now());
    req.log.info({ siteId: id, levels: policy.levels.length }, 'escalation chain updated');
    // The secret is write-only.
    return { ...policy, webhookSecret: policy.webhookSecret ? '(set)' : undefined };
  });

  app.get('/api/v1/sites/:id/escalation', { schema: { tags: ['alarms'], params: IdParams } }, async (req) => {
    const { id } = req.params;
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
        response: { 200: TestSchedule },
      },
    },
    async (req) => {
      if (!req.access.isAdmin) throw forbidden('administrators only');
      const { id } = req.params;
      if (!(await ctx.registry.getSite(id))) throw notFound('site', id);
      const b = req.body;
      const schedule = { weekday: b.weekday, time: b.time, windowSeconds: b.windowSeconds ?? 900, kinds: b.kinds ?? ['call_button'] };
      await ctx.db
        .insertInto('test_schedules')
        .values({ site_id: id, schedule: JSON.stringify(schedule), last_run: null })
        .onConflict((oc) => oc.column('site_id').doUpdateSet({ schedule: JSON.stringify(schedule) }))
        .execute();
      return schedule;
    },
  );

  app.get('/api/v1/sites/:id/test-schedule', { schema: { tags: ['alarms'], params: IdParams } }, async (req) => {
    const { id } = req.params;
    if (!req.access.canSeeSite(id) || !(await ctx.registry.getSite(id))) throw notFound('site', id);
    const row = await ctx.db.selectFrom('test_schedules').selectAll().where('site_id', '=', id).executeTakeFirst();
    // No row: the site has no weekly check yet (the page offers to plan one).
    return { schedule: row ? (JSON.parse(row.schedule) as unknown) : null, lastRun: row?.last_run ?? null };
  });

  app.get(
    '/api/v1/audit',
    {
      schema: {
        tags: ['audit'],
        querystring: Type.Object(
          {
            alarmId: Type.Optional(Type.String({ maxLength: 64 })),
            action: Type.Optional(Type.String({ maxLength: 64 })),
            /** Entries about the resident: the resident itself as subject, or one of their alarms. */
            residentId: Type.Optional(Type.String({ maxLength: 64 })),
            /** Who did it (a username, or `system`, `channel:target`). */
            actor: Type.Optional(Type.String({ maxLength: 200 })),
            from: Type.Optional(Type.String({ format: 'date-time' })),
            to: Type.Optional(Type.String({ format: 'date-time' })),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 5000 })),
          },
          { additionalProperties: false },
        ),
      },
    },
    async (req) => {
      if (!req.access.isAdmin) throw forbidden('administrators only');
      const q = req.query;
      let sel = ctx.db
        .selectFrom('audit')
        .selectAll()
        .orderBy('id', 'desc')
        .limit(q.limit ?? 500);
      if (q.alarmId) sel = sel.where('alarm_id', '=', q.alarmId);
      if (q.action) sel = sel.where('action', '=', q.action);
      if (q.actor) sel = sel.where('actor', '=', q.actor);
      // Stored times are ISO strings in UTC, so they compare as text.
      if (q.from) sel = sel.where('at', '>=', new Date(q.from).toISOString());
      if (q.to) sel = sel.where('at', '<=', new Date(q.to).toISOString());
      const residentId = q.residentId;
      if (residentId)
        sel = sel.where((eb) =>
          eb.or([
            eb('subject', '=', residentId),
            eb('alarm_id', 'in', eb.selectFrom('alarms').select('alarms.id').where('alarms.resident_id', '=', residentId)),
          ]),
        );
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
            channel: Type.Optional(Type.Enum(['webhook', 'sms', 'user', 'push'] as const)),
            state: Type.Optional(
              Type.Enum(['pending', 'sent', 'delivered', 'failed', 'queued', 'seen', 'accepted', 'suppressed'] as const),
            ),
            /** oldest (default): in the order they were made; newest: the latest 500, for a screen. */
            order: Type.Optional(Type.Enum(['oldest', 'newest'] as const)),
          },
          { additionalProperties: false },
        ),
        response: { 200: Lists.notifications },
      },
    },
    async (req) => {
      if (!req.access.isAdmin) throw forbidden('administrators only');
      const rows = await ctx.notifier.list(req.query);
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
          receiptAt: r.receipt_at,
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
        response: { 200: NotificationReceipt },
      },
    },
    async (req) => {
      if (!req.access.canRespond) throw forbidden();
      const { id } = req.params;
      const { status } = req.body;
      // Scoped by the alarm's site. Someone who may not see the alarm gets the same 404 as for an
      // id that does not exist, so notification ids cannot be confirmed from another site.
      const row = await ctx.db
        .selectFrom('notifications')
        .select(['alarm_id', 'channel', 'target'])
        .where('id', '=', id)
        .executeTakeFirst();
      // Family and responders confirm only what was sent to them (a `user` contact naming them).
      const own = row?.channel === 'user' && (row.target === req.access.user.id || row.target === req.access.user.username);
      if (row && !req.access.canAct && !own) throw forbidden('only a notification sent to you');
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
    const { id } = req.params;
    if (!(await ctx.notifier.markDelivered(id, req.access.user.username))) throw notFound('queued notification', id);
    return { id, state: 'delivered' };
  });
};

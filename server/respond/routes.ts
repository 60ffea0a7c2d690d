// Accepting an alarm from the message, without logging in (DESIGN.md 3.9): `GET /r/{token}` serves
// the mobile page, `POST /api/v1/respond/{token}` takes accept / decline / on_site / resolve. The
// token is the only credential: one alarm, one contact; dead or unknown answers 404. Rate-limited
// per address and per token; every action is audited in the contact's name.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import Type from 'typebox';
import type { Alarm } from '../../protocol/index.ts';
import { type AlarmEngine, AlarmError } from '../alarms/engine.ts';
import { ApiError } from '../http/errors.ts';
import type { AuditEntry } from '../storage/alarms.ts';
import { createWindowLimiter } from './limiter.ts';
import { pickLang, renderGone, renderLimited, renderPage } from './page.ts';
import type { ResponseRecord, ResponseTokens } from './tokens.ts';
import { buildView, type RespondSite, RespondView } from './view.ts';

export const RESPOND_ACTIONS = ['accept', 'decline', 'on_site', 'resolve'] as const;
export type RespondAction = (typeof RESPOND_ACTIONS)[number];
/** The outcomes the alarm keeps as such; any other text is kept as `other` with the text as the note. */
const KNOWN_OUTCOMES = new Set(['false_alarm', 'assisted', 'injured', 'transferred', 'other']);

/** What the chain does when a contact accepts or declines through the link (server/alarms/response-chain.ts). */
export interface ChainHooks {
  accepted(rec: ResponseRecord, alarm: Alarm): Promise<void>;
  declined(rec: ResponseRecord, alarm: Alarm): Promise<void>;
}

export interface RespondLimits {
  /** Requests a minute from one address (page and actions together). */
  perAddress: number;
  /** Requests a minute for one token. */
  perToken: number;
  /** Addresses and tokens remembered at once. */
  maxKeys: number;
}
export const defaultRespondLimits: RespondLimits = { perAddress: 60, perToken: 20, maxKeys: 10_000 };

export interface RespondRouteOptions {
  tokens: ResponseTokens;
  getAlarm(id: string): Promise<Alarm | undefined>;
  engine: Pick<AlarmEngine, 'acknowledge' | 'markOnSite' | 'resolve'>;
  chain: ChainHooks;
  siteOf(siteId: string | null): Promise<RespondSite | null>;
  audit(e: AuditEntry): Promise<void>;
  now: () => string;
  limits?: Partial<RespondLimits>;
}

const TokenParams = Type.Object({ token: Type.String({ minLength: 1, maxLength: 200 }) });
const ActionBody = Type.Object(
  {
    action: Type.Enum(RESPOND_ACTIONS),
    outcome: Type.Optional(Type.String({ minLength: 1, maxLength: 500 })),
  },
  { additionalProperties: false },
);

const here = path.dirname(fileURLToPath(import.meta.url));

export const respondRoutes: FastifyPluginAsync<RespondRouteOptions> = async (plain, opts) => {
  const app = plain.withTypeProvider<TypeBoxTypeProvider>();
  const lim = { ...defaultRespondLimits, ...opts.limits };
  const nowMs = () => Date.parse(opts.now());
  const byAddress = createWindowLimiter({ max: lim.perAddress, windowMs: 60_000, maxKeys: lim.maxKeys, now: nowMs });
  const byToken = createWindowLimiter({ max: lim.perToken, windowMs: 60_000, maxKeys: lim.maxKeys, now: nowMs });
  const script = fs.readFileSync(path.join(here, 'respond.js'), 'utf8');

  /** Both limits are counted on every request, so a flood on one token also spends the address's budget. */
  const limited = (ip: string, token: string) => {
    const a = byAddress.hit(ip);
    const t = byToken.hit(token);
    return !(a && t);
  };
  const noStore = (reply: FastifyReply) =>
    reply.header('cache-control', 'no-store').header('referrer-policy', 'no-referrer').header('x-robots-tag', 'noindex');

  async function viewOf(rec: ResponseRecord, alarm: Alarm) {
    return buildView(alarm, await opts.siteOf(alarm.siteId), rec, await opts.tokens.forAlarm(alarm.id));
  }

  app.get('/r/respond.js', { schema: { hide: true } }, async (_req, reply) =>
    reply.type('text/javascript; charset=utf-8').header('cache-control', 'public, max-age=300').send(script),
  );

  app.get('/r/:token', { schema: { hide: true, params: TokenParams } }, async (req, reply) => {
    noStore(reply);
    const lang = pickLang(req.headers['accept-language']);
    if (limited(req.ip, req.params.token)) return reply.code(429).type('text/html; charset=utf-8').send(renderLimited(lang));
    const rec = await opts.tokens.lookup(req.params.token);
    const alarm = rec && (await opts.getAlarm(rec.alarmId));
    if (!rec || !alarm) return reply.code(404).type('text/html; charset=utf-8').send(renderGone(lang));
    return reply.type('text/html; charset=utf-8').send(renderPage(await viewOf(rec, alarm), req.params.token, lang, nowMs()));
  });

  app.post(
    '/api/v1/respond/:token',
    {
      schema: {
        tags: ['respond'],
        summary: 'Accept, decline, report on site or close an alarm through a response link (no login)',
        security: [],
        params: TokenParams,
        body: ActionBody,
        response: { 200: RespondView },
      },
    },
    async (req, reply) => {
      noStore(reply);
      const { token } = req.params;
      if (limited(req.ip, token)) throw new ApiError(429, 'RATE_LIMITED', 'too many requests; try again in a minute');
      const rec = await opts.tokens.lookup(token);
      const alarm = rec && (await opts.getAlarm(rec.alarmId));
      if (!rec || !alarm) throw new ApiError(404, 'NOT_FOUND', 'this link has expired or its alarm is closed');
      const { action, outcome } = req.body;
      const who = rec.contact.name;
      const conflict = (message: string) => new ApiError(409, 'INVALID_TRANSITION', message);
      // Another person's action may have moved the alarm between our read and this change: the
      // engine refuses, and the contact sees the alarm as it now is.
      const tolerate = async (fn: () => Promise<unknown>) => {
        try {
          await fn();
        } catch (err) {
          if (!(err instanceof AlarmError)) throw err;
        }
      };
      let state = rec.state;
      switch (action) {
        case 'accept':
          // Several people may go; the first to accept acknowledges the alarm in their name.
          if (alarm.state === 'active') await tolerate(() => opts.engine.acknowledge(alarm.id, who));
          state = rec.state === 'on_site' ? 'on_site' : 'accepted';
          break;
        case 'decline':
          if (rec.state === 'on_site') throw conflict('you are on site: close the alarm instead');
          state = 'declined';
          break;
        case 'on_site':
          await tolerate(() => opts.engine.markOnSite(alarm.id, who));
          state = 'on_site';
          break;
        case 'resolve': {
          if (rec.state !== 'accepted' && rec.state !== 'on_site') throw conflict('accept the alarm before closing it');
          const known = outcome !== undefined && KNOWN_OUTCOMES.has(outcome);
          await tolerate(() =>
            opts.engine.resolve(alarm.id, who, outcome === undefined ? undefined : known ? outcome : 'other', known ? undefined : outcome),
          );
          state = 'resolved';
          break;
        }
      }
      const updated = (await opts.tokens.setState(token, state)) ?? { ...rec, state, actedAt: opts.now() };
      await opts.audit({
        at: opts.now(),
        actor: who,
        action: `respond.${action}`,
        alarmId: alarm.id,
        subject: `${rec.contact.kind}:${rec.contact.target}`,
        detail: { level: rec.level, link: rec.hash.slice(0, 12), ...(outcome ? { outcome } : {}) },
      });
      req.log.info({ alarmId: alarm.id, action, level: rec.level, link: rec.hash.slice(0, 12) }, 'response link used');
      const current = (await opts.getAlarm(alarm.id)) ?? alarm;
      if (action === 'accept') await opts.chain.accepted(updated, current);
      if (action === 'decline') await opts.chain.declined(updated, current);
      return viewOf(updated, (await opts.getAlarm(alarm.id)) ?? current);
    },
  );
};

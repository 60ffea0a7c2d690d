// HTTP authentication and authorisation hooks for an external broker that asks a web service who
// may connect and what they may do, as EMQX 5 does (`authentication` and `authorization` sources
// of type `http`). The same rules as the embedded broker: client id = username = gateway id, the
// secret issued at registration, and the gateway's own topics only. The server's own connection
// (the user of CARE_MQTT_URL) is a superuser. The broker calls these with the shared secret
// CARE_BROKER_HOOK_SECRET as a bearer token; anything it cannot prove is denied.
import { timingSafeEqual } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { mayPublish, maySubscribe } from '../broker/policy.ts';
import type { Metrics } from '../metrics.ts';
import { createGatewaySecrets } from '../security/gateway-secrets.ts';
import type { Registry } from '../storage/registry.ts';

export interface BrokerHookOptions {
  secret: string;
  /** The server's own broker login (from CARE_MQTT_URL), allowed everything. */
  serverUser: { username: string; password: string } | null;
}

const same = (a: string, b: string) => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

const AuthnBody = Type.Object({
  clientid: Type.String({ maxLength: 256 }),
  username: Type.Optional(Type.String({ maxLength: 256 })),
  password: Type.Optional(Type.String({ maxLength: 1024 })),
});
const AuthzBody = Type.Object({
  clientid: Type.String({ maxLength: 256 }),
  username: Type.Optional(Type.String({ maxLength: 256 })),
  topic: Type.String({ maxLength: 1024 }),
  action: Type.String({ maxLength: 32 }),
  retain: Type.Optional(Type.Union([Type.Boolean(), Type.String({ maxLength: 8 })])),
});
const Verdict = Type.Object({ result: Type.String(), is_superuser: Type.Optional(Type.Boolean()) });

export interface BrokerHookRouteOptions {
  registry: Pick<Registry, 'getGatewaySecretHash'>;
  metrics: Metrics;
  hooks: BrokerHookOptions;
}

export const brokerHookRoutes: FastifyPluginAsyncTypebox<BrokerHookRouteOptions> = async (app, { hooks, ...ctx }) => {
  // As in the embedded broker: a secret once proved is checked again without scrypt.
  const secrets = createGatewaySecrets();
  const deny = (kind: string, why: string, req: FastifyRequest) => {
    ctx.metrics.securityEvents.inc({ kind });
    req.log.warn({ reason: why }, 'security: broker hook denied');
    return { result: 'deny' };
  };
  /** The broker proves itself with the shared secret; without it nothing is answered. */
  const checkCaller = async (req: FastifyRequest, reply: FastifyReply) => {
    const auth = req.headers.authorization ?? '';
    if (!auth.startsWith('Bearer ') || !same(auth.slice(7), hooks.secret)) {
      ctx.metrics.securityEvents.inc({ kind: 'broker_hook_unauthorised' });
      return reply.code(401).send({ result: 'deny' });
    }
  };

  app.post(
    '/broker/v1/authenticate',
    {
      preHandler: checkCaller,
      schema: { hide: true, body: AuthnBody, response: { 200: Verdict } },
    },
    async (req) => {
      const b = req.body;
      const username = b.username ?? '';
      const password = b.password ?? '';
      if (hooks.serverUser && same(username, hooks.serverUser.username)) {
        return same(password, hooks.serverUser.password)
          ? { result: 'allow', is_superuser: true }
          : deny('auth_failed', 'server user with a wrong password', req);
      }
      if (!username || !password || username !== b.clientid) return deny('auth_failed', 'anonymous or username != client id', req);
      const gw = await ctx.registry.getGatewaySecretHash(username);
      if (!gw) return deny('auth_failed', 'unknown gateway', req);
      if (!(await secrets.verify(password, gw.secretHash))) return deny('auth_failed', 'wrong secret', req);
      return { result: 'allow', is_superuser: false };
    },
  );

  app.post(
    '/broker/v1/authorize',
    {
      preHandler: checkCaller,
      schema: { hide: true, body: AuthzBody, response: { 200: Verdict } },
    },
    async (req) => {
      const b = req.body;
      const username = b.username ?? '';
      // Superusers are not asked about; a plain call for the server user is answered all the same.
      if (hooks.serverUser && same(username, hooks.serverUser.username)) return { result: 'allow' };
      if (!username || username !== b.clientid) return deny('forged_topic', 'username != client id', req);
      const gw = await ctx.registry.getGatewaySecretHash(username);
      // A revoked gateway keeps no rights, even on a session that is still open.
      if (!gw || gw.secretHash === 'revoked') return deny('forged_topic', 'unknown or revoked gateway', req);
      const who = { gatewayId: username, siteId: gw.siteId };
      const retain = b.retain === true || b.retain === 'true';
      const why =
        b.action === 'publish'
          ? mayPublish(who, b.topic, retain)
          : b.action === 'subscribe'
            ? maySubscribe(who, b.topic)
            : `unknown action ${b.action}`;
      return why ? deny(b.action === 'subscribe' ? 'forged_subscription' : 'forged_topic', why, req) : { result: 'allow' };
    },
  );
};

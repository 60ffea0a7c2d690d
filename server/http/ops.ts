// Liveness and metrics for operators.
// /metrics needs CARE_METRICS_TOKEN as a bearer token, or (no token set) a server listening on
// loopback only; otherwise it is not served. Health and readiness stay open for load balancers.
import { timingSafeEqual } from 'node:crypto';
import type {} from '@fastify/swagger';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { Exposure } from '../config.ts';
import type { Metrics } from '../metrics.ts';
import type { HealthStatus } from './context.ts';
import { ApiError, unauthorized } from './errors.ts';

export interface OpsRouteOptions {
  exposure: Pick<Exposure, 'metricsToken' | 'metricsWithoutToken'>;
  log: Pick<Logger, 'warn'>;
  metrics: Metrics;
  /** Screens connected to this instance, for the gauge. */
  wsClients: () => number;
  health: () => Promise<HealthStatus>;
  readiness: () => Promise<HealthStatus>;
  /** Brings gauges up to date just before /metrics is read. */
  refreshMetrics: () => Promise<void>;
}

const sameSecret = (a: string, b: string) => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

export const opsRoutes: FastifyPluginAsyncTypebox<OpsRouteOptions> = async (app, ctx) => {
  const { metricsToken, metricsWithoutToken } = ctx.exposure;
  if (!metricsToken && !metricsWithoutToken)
    ctx.log.warn('/metrics is not served: the server listens beyond loopback and CARE_METRICS_TOKEN is not set');
  const mayReadMetrics = async (req: FastifyRequest) => {
    if (metricsToken) {
      const auth = req.headers.authorization ?? '';
      if (!auth.startsWith('Bearer ') || !sameSecret(auth.slice(7).trim(), metricsToken)) {
        ctx.metrics.securityEvents.inc({ kind: 'metrics_unauthorised' });
        throw unauthorized('/metrics needs the CARE_METRICS_TOKEN bearer token');
      }
    } else if (!metricsWithoutToken) {
      throw new ApiError(404, 'NOT_FOUND', 'metrics are not served here: set CARE_METRICS_TOKEN');
    }
  };
  // Both write to the state store and read the alarm lane's progress: 503 when either is stuck.
  app.get('/healthz', { schema: { hide: true } }, async (_req, reply) => {
    const h = await ctx.health();
    return reply
      .code(h.ok ? 200 : 503)
      .header('cache-control', 'no-store')
      .send({ status: h.ok ? 'ok' : 'failing', checks: h.checks, ...h.details });
  });
  app.get('/readyz', { schema: { hide: true } }, async (_req, reply) => {
    const r = await ctx.readiness();
    return reply
      .code(r.ok ? 200 : 503)
      .header('cache-control', 'no-store')
      .send({ status: r.ok ? 'ready' : 'not ready', checks: r.checks, ...r.details });
  });
  app.get('/metrics', { schema: { hide: true }, onRequest: mayReadMetrics }, async (_req, reply) => {
    ctx.metrics.wsClients.set(ctx.wsClients());
    await ctx.refreshMetrics();
    return reply.type(ctx.metrics.registry.contentType).send(await ctx.metrics.registry.metrics());
  });
};

// Liveness and metrics for operators.
import type {} from '@fastify/swagger';
import type { FastifyPluginAsync } from 'fastify';
import type { HttpContext } from './context.ts';

export const opsRoutes: FastifyPluginAsync<{ ctx: HttpContext }> = async (app, { ctx }) => {
  app.get('/healthz', { schema: { hide: true } }, async (_req, reply) => {
    const h = ctx.health();
    return reply.code(h.ok ? 200 : 503).send({ status: h.ok ? 'ok' : 'failing', checks: h.checks });
  });
  app.get('/readyz', { schema: { hide: true } }, async (_req, reply) => {
    const r = await ctx.readiness();
    return reply.code(r.ok ? 200 : 503).send({ status: r.ok ? 'ready' : 'not ready', checks: r.checks });
  });
  app.get('/metrics', { schema: { hide: true } }, async (_req, reply) => {
    ctx.metrics.wsClients.set(ctx.feed.clientCount);
    await ctx.refreshMetrics();
    return reply.type(ctx.metrics.registry.contentType).send(await ctx.metrics.registry.metrics());
  });
};

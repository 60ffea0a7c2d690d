// Builds the Fastify app (separate from listen, so tests can inject or listen on port 0).
import fs from 'node:fs';
import fastifyRateLimit from '@fastify/rate-limit';
import fastifyStatic from '@fastify/static';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import fastifyWebsocket from '@fastify/websocket';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { pushRoutes } from '../channels/routes.ts';
import { respondRoutes } from '../respond/routes.ts';
import { createAreaStore } from '../storage/areas.ts';
import { createRegistryEdits } from '../storage/registry-edits.ts';
import type { User } from '../storage/users.ts';
import { createGatewaySites } from '../ws/gateway-sites.ts';
import { createScreenSessions, wsRoutes } from '../ws/routes.ts';
import { loadAccess } from './access.ts';
import { alarmRoutes } from './alarms.ts';
import { areaRoutes } from './areas.ts';
import { authPlugin } from './auth.ts';
import { brokerHookRoutes } from './broker-hooks.ts';
import type { HttpContext } from './context.ts';
import { dailyLivingRoutes } from './daily-living.ts';
import { ApiError } from './errors.ts';
import { escalationRoutes } from './escalation.ts';
import { opsRoutes } from './ops.ts';
import { privacyRoutes } from './privacy.ts';
import { registryRoutes } from './registry.ts';
import { registryEditRoutes } from './registry-edits.ts';
import { reportRoutes } from './reports.ts';
import { schemaRoutes } from './schemas.ts';
import { securityHeaders } from './security-headers.ts';
import { shiftRoutes } from './shifts.ts';
import { sleepRoutes } from './sleep.ts';
import { supervisionRoutes } from './supervision.ts';
import { telemetryRoutes } from './telemetry.ts';
import { userRoutes } from './users.ts';

const REGISTRY_ROUTE = /^\/api\/v1\/(sites|residents|gateways|devices)(\/|$)/;
/** A Host header we are willing to repeat in the CSP (name or address, optional port). */
const PLAIN_HOST = /^[A-Za-z0-9.-]{1,253}(:\d{1,5})?$|^\[[0-9A-Fa-f:.]{2,45}\](:\d{1,5})?$/;

/**
 * The WebSocket origins a page of ours may connect to: its own host only. CSP 3 lets 'self' match
 * ws:/wss: on the same host, but older engines (Safari before 15.4) do not, so the host is named.
 */
export function sameHostWebSockets(host: string | undefined): string {
  return host && PLAIN_HOST.test(host) ? `ws://${host} wss://${host}` : "'self'";
}

/** A route as registered (method and URL pattern), for the authorisation matrix test. */
export interface RegisteredRoute {
  method: string;
  url: string;
}

/**
 * A Fastify instance with the server's limits, validation settings and error answers, and no
 * routes: buildHttpApp adds them all; a route test adds the one plugin it tests.
 */
export function baseApp(logger: Logger, tls: { cert: string; key: string } | null = null): FastifyInstance {
  const app = Fastify({
    ...(tls ? { https: { cert: tls.cert, key: tls.key } } : {}),
    // Request lines at info would flood the log; warnings and errors still show.
    loggerInstance: logger.child(
      { part: 'http' },
      { level: logger.level === 'debug' || logger.level === 'trace' ? logger.level : 'warn' },
    ) as FastifyBaseLogger,
    bodyLimit: 64 * 1024,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true } },
  });

  app.setErrorHandler((err: Error & { statusCode?: number; code?: string; validation?: unknown }, req, reply) => {
    if (err instanceof ApiError)
      return reply.code(err.statusCode).send({ error: err.code, message: err.message, statusCode: err.statusCode });
    if (err.validation) return reply.code(400).send({ error: 'VALIDATION', message: err.message, statusCode: 400 });
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) req.log.error({ err }, 'request failed');
    return reply
      .code(status)
      .send({ error: err.code ?? 'ERROR', message: status === 500 ? 'internal error' : err.message, statusCode: status });
  });
  return app;
}

export async function buildHttpApp(
  ctx: HttpContext,
  logger: Logger,
  tls: { cert: string; key: string } | null = null,
): Promise<FastifyInstance> {
  const app = baseApp(logger, tls);
  // Every route, as Fastify registers it (HEAD twins included), so a test can check that each
  // one is in the authorisation matrix.
  const routes: RegisteredRoute[] = [];
  // Body schemas of the API's routes, served to the dashboard's forms (schemas.ts).
  const bodies: Record<string, unknown> = {};
  app.addHook('onRoute', (r) => {
    for (const method of [r.method].flat()) {
      routes.push({ method, url: r.url });
      if (r.schema?.body && r.url.startsWith('/api/v1/')) bodies[`${method} ${r.url}`] = r.schema.body;
    }
  });
  app.decorate('registeredRoutes', () => [...routes]);

  // Helmet's headers, worked out once per Host the CSP names (security-headers.ts).
  const tileOrigin = ctx.mapTileUrl ? [new URL(ctx.mapTileUrl.replace(/\{[a-z]\}/g, '0')).origin] : [];
  await app.register(securityHeaders, {
    variantOf: (req) => sameHostWebSockets(req.headers.host),
    helmetOptions: (webSockets) => ({
      contentSecurityPolicy: {
        directives: {
          defaultSrc: ["'self'"],
          scriptSrc: ["'self'"],
          // Preact and uPlot set style attributes.
          styleSrc: ["'self'", "'unsafe-inline'"],
          // Map tiles for the centre's board come from CARE_MAP_TILE_URL's origin, when set.
          imgSrc: ["'self'", 'data:', ...tileOrigin],
          connectSrc: ["'self'", webSockets],
          upgradeInsecureRequests: null,
        },
      },
      // The dashboard is served over plain HTTP on a local network unless TLS is configured.
      strictTransportSecurity: false,
    }),
  });
  // preHandler: the login limit is keyed by the username in the parsed body.
  await app.register(fastifyRateLimit, { global: false, hook: 'preHandler' });
  // A successful write to the registry (sites, residents and their settings, gateways, devices and
  // their tests, escalation chains) changes what ingest and the alarm engine hold in their caches,
  // here and on every other instance. Alarm actions, logins and receipts do not.
  const gatewaySites = createGatewaySites(ctx.registry, (err) => logger.error({ err }, 'reading gateway sites for the feed failed'));
  app.addHook('onClose', async () => gatewaySites.close());
  // Any write can change what an alarm list shows without an alarm change of its own (a resident
  // erased or renamed, a device moved): kept alarm pages are dropped before the answer leaves, so
  // the caller's next read cannot get one. Kept sessions too: a logout, a new password, role or
  // scope ends or changes sessions, and the next request must be looked up afresh.
  app.addHook('onSend', async (req, reply, payload) => {
    if (req.method !== 'GET' && req.method !== 'HEAD' && reply.statusCode < 400) {
      ctx.alarmPages?.changed();
      ctx.sessionCache?.clear();
    }
    return payload;
  });
  app.addHook('onResponse', async (req, reply) => {
    const url = req.routeOptions.url ?? '';
    if (req.method !== 'GET' && reply.statusCode < 400 && REGISTRY_ROUTE.test(url)) {
      ctx.onRegistryChanged();
      if (url.startsWith('/api/v1/gateways')) gatewaySites.changed();
    }
  });
  if (ctx.exposure.apiDocs) {
    await app.register(fastifySwagger, {
      openapi: {
        info: { title: 'Eldercare monitoring API', version: '1' },
        components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
        security: [{ bearer: [] }],
      },
    });
    await app.register(fastifySwaggerUi, { routePrefix: '/docs', staticCSP: true });
  }
  await app.register(fastifyWebsocket, { options: { maxPayload: 4096 } });
  const sessions = createScreenSessions();
  // Each caller's scope by the areas tree, grid worker, escalations to them, family contacts (access.ts).
  const areas = createAreaStore(ctx.db);
  const access = (user: User) => loadAccess({ db: ctx.db, areas, now: ctx.now }, user);
  const { db, registry, users, alarms, engine, metrics, now, ids } = ctx;
  await app.register(authPlugin, {
    users,
    metrics,
    now,
    tokenTtlMs: ctx.tokenTtlMs,
    loginLimits: ctx.loginLimits ?? { perAccount: ctx.loginRateLimit, perAddress: 50, hashConcurrency: 2, hashQueue: 32 },
    onLogout: sessions.revoked,
    access,
    sessions: ctx.sessionCache,
  });
  await app.register(alarmRoutes, { alarms, engine, pages: ctx.alarmPages });
  await app.register(registryRoutes, {
    db,
    registry,
    users,
    ids,
    now,
    gatewayCredentials: ctx.gatewayCredentials,
    deviceTests: ctx.deviceTests,
  });
  // Edits (PATCH) of sites, residents, devices and users, each in the audit trail.
  const edits = createRegistryEdits(db);
  await app.register(registryEditRoutes, { db, registry, edits, now });
  await app.register(userRoutes, { db, registry, edits, now, onSessionsEnded: (digests) => digests.forEach(sessions.revoked) });
  await app.register(escalationRoutes, { db, registry, policies: ctx.policies, notifier: ctx.notifier, alarms, engine, metrics, now });
  await app.register(supervisionRoutes, { db, now });
  await app.register(privacyRoutes, { db, registry, alarms, now });
  await app.register(shiftRoutes, { db, registry, users, shifts: ctx.shifts, metrics, ids });
  await app.register(reportRoutes, { db, alarms, shifts: ctx.shifts, now });
  await app.register(telemetryRoutes, { db, registry, telemetry: ctx.telemetry, now });
  await app.register(dailyLivingRoutes, { db });
  await app.register(sleepRoutes, { db, registry, now });
  await app.register(opsRoutes, {
    exposure: ctx.exposure,
    log: ctx.log,
    metrics,
    wsClients: () => ctx.feed.clientCount,
    health: ctx.health,
    readiness: ctx.readiness,
    refreshMetrics: ctx.refreshMetrics,
  });
  await app.register(schemaRoutes, { bodies: () => bodies });
  if (ctx.brokerHooks) await app.register(brokerHookRoutes, { registry, metrics, hooks: ctx.brokerHooks });
  // Response links from messages: no login, the token is the credential (server/respond/).
  if (ctx.respond) await app.register(respondRoutes, ctx.respond);
  if (ctx.push) await app.register(pushRoutes, ctx.push);
  await app.register(areaRoutes, {
    db: ctx.db,
    areas,
    registry: ctx.registry,
    alarms: ctx.alarms,
    policies: ctx.policies,
    ids: ctx.ids,
    now: ctx.now,
    mapTileUrl: ctx.mapTileUrl ?? null,
  });
  await app.register(wsRoutes, {
    db,
    users,
    feed: ctx.feed,
    metrics,
    now,
    allowedOrigins: ctx.allowedOrigins,
    gatewaySites,
    sessions,
    access,
  });
  if (ctx.dashboardDir && fs.existsSync(ctx.dashboardDir)) {
    const { sourceMaps } = ctx.exposure;
    await app.register(fastifyStatic, {
      root: ctx.dashboardDir,
      prefix: '/',
      index: ['index.html'],
      // The source map is the dashboard's source; production does not hand it out unless asked.
      allowedPath: (pathName) => sourceMaps || !pathName.endsWith('.map'),
    });
  } else {
    app.get('/', { schema: { hide: true } }, async (_req, reply) =>
      reply.type('text/plain').send('Dashboard not built: run `npm run build:dashboard`.\n'),
    );
  }
  return app;
}

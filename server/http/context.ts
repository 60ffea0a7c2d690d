// What the HTTP plugins need from the rest of the server, passed in rather than imported.
import type { FastifyReply } from 'fastify';
import type { Logger } from 'pino';
import type { IdSource } from '../../protocol/index.ts';
import type { DeviceTests } from '../alarms/device-tests.ts';
import type { AlarmEngine } from '../alarms/engine.ts';
import type { Notifier } from '../alarms/notify.ts';
import type { Policies } from '../alarms/policies.ts';
import type { Shifts } from '../alarms/shifts.ts';
import type { Exposure } from '../config.ts';
import type { Metrics } from '../metrics.ts';
import type { AlarmStore } from '../storage/alarms.ts';
import type { Db, Registry } from '../storage/registry.ts';
import type { TelemetryStore } from '../storage/telemetry.ts';
import type { UserStore } from '../storage/users.ts';
import type { Feed } from '../ws/feed.ts';
import type { Access } from './access.ts';
import type { BrokerHookOptions } from './broker-hooks.ts';
import type { GatewayCredentials } from './registry.ts';

export interface HealthStatus {
  ok: boolean;
  checks: Record<string, boolean | number>;
  /** Figures behind the checks (ages in ms, the store's error code), shown as they are. */
  details?: Record<string, unknown>;
}

export interface HttpContext {
  db: Db;
  registry: Registry;
  users: UserStore;
  alarms: AlarmStore;
  engine: AlarmEngine;
  telemetry: TelemetryStore;
  feed: Feed;
  policies: Policies;
  shifts: Shifts;
  deviceTests: DeviceTests;
  notifier: Notifier;
  metrics: Metrics;
  ids: IdSource;
  log: Logger;
  now: () => string;
  tokenTtlMs: number;
  dashboardDir: string | null;
  /** Alive and doing its job: a real write to the state store, escalation sweeping, ingest committing. */
  health: () => Promise<HealthStatus>;
  /** Brings gauges up to date just before /metrics is read. */
  refreshMetrics: () => Promise<void>;
  /** Ready to take traffic: healthy, ingest backlog small, the cross-instance bus up. */
  readiness: () => Promise<HealthStatus>;
  /** EMQX-style HTTP auth hooks for an external broker; null: not served. */
  brokerHooks: BrokerHookOptions | null;
  gatewayCredentials: GatewayCredentials;
  /** Sites, residents, devices or settings changed: cached lookups must be read afresh. */
  onRegistryChanged: () => void;
  loginRateLimit: number;
  /** Failed logins a minute per account and address and per address; people's password hashing slots and line. */
  loginLimits?: { perAccount: number; perAddress: number; hashConcurrency: number; hashQueue: number };
  allowedOrigins: string[];
  /** `GET /api/v1/alarms` answers kept until an alarm changes; unset: read every time. */
  alarmPages?: import('./alarm-page-cache.ts').AlarmPageCache;
  /** Bearer tokens found valid a moment ago (session-cache.ts); unset: every request looks its token up. */
  sessionCache?: import('./session-cache.ts').SessionCache<import('./auth.ts').KeptSession>;
  /** What is served without a login: /metrics (token or loopback), API docs, source maps. */
  exposure: Exposure;
  /** Map tiles for the community centre's board; null or absent: none (markers on a plain background). */
  mapTileUrl?: string | null;
  /** The no-login response routes (/r/{token}, /api/v1/respond/{token}); absent: not served. */
  respond?: import('../respond/routes.ts').RespondRouteOptions | null;
  /** Web Push subscriptions (server/channels/routes.ts); absent: not served. */
  push?: import('../channels/routes.ts').PushRouteOptions | null;
}

declare module 'fastify' {
  interface FastifyRequest {
    access: Access;
  }
  interface FastifyInstance {
    authenticate: (req: FastifyRequest, reply: FastifyReply) => Promise<void>;
    /** Every route registered so far (the authorisation matrix test reads it). */
    registeredRoutes: () => import('./app.ts').RegisteredRoute[];
  }
}

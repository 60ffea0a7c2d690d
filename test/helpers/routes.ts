// Route-level tests: one route plugin on the server's base app (its limits, validation settings and
// error answers), with the real authentication plugin, against real stores on an in-memory SQLite
// database with every migration applied. Requests go through app.inject(): no socket, no broker.
// A small world is set up: two sites, a resident on each, and one account per role.
import { randomBytes } from 'node:crypto';
import fastifyWebsocket from '@fastify/websocket';
import SQLite from 'better-sqlite3';
import type { FastifyInstance, FastifyPluginAsync, LightMyRequestResponse } from 'fastify';
import { Kysely, Migrator, SqliteDialect } from 'kysely';
import { type Alarm, ulidSource } from '../../protocol/index.ts';
import { createAlarmEngine } from '../../server/alarms/engine.ts';
import { createNotifier, webhookChannel } from '../../server/alarms/notify.ts';
import { loadPolicies } from '../../server/alarms/policies.ts';
import { createSender } from '../../server/alarms/sender.ts';
import { createShifts } from '../../server/alarms/shifts.ts';
import { baseApp } from '../../server/http/app.ts';
import { authPlugin } from '../../server/http/auth.ts';
import { createMetrics } from '../../server/metrics.ts';
import { tokenDigest } from '../../server/security/passwords.ts';
import { createAlarmStore } from '../../server/storage/alarms.ts';
import { migrationProvider } from '../../server/storage/migrations.ts';
import { createRegistry } from '../../server/storage/registry.ts';
import type { Database } from '../../server/storage/tables.ts';
import { createUserStore, type Role } from '../../server/storage/users.ts';
import { FakeClock } from './fake-clock.ts';
import { quietLogger } from './harness.ts';

export const SITE_A = 'site-a';
export const SITE_B = 'site-b';
export const RESIDENT_A = 'res-a';
export const RESIDENT_B = 'res-b';

/** One signed-in account per role; `leadA` and `caregiverA` are bound to site A, `caregiverB` to B. */
export const ACCOUNTS = {
  admin: { role: 'admin', siteId: null, residentId: null },
  leadA: { role: 'nurse_lead', siteId: SITE_A, residentId: null },
  caregiverA: { role: 'caregiver', siteId: SITE_A, residentId: null },
  caregiverB: { role: 'caregiver', siteId: SITE_B, residentId: null },
  familyA: { role: 'family', siteId: null, residentId: RESIDENT_A },
} as const satisfies Record<string, { role: Role; siteId: string | null; residentId: string | null }>;
export type Account = keyof typeof ACCOUNTS;

export async function createRouteWorld() {
  const sqlite = new SQLite(':memory:');
  sqlite.pragma('foreign_keys = ON');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
  const migrated = await new Migrator({ db, provider: migrationProvider }).migrateToLatest();
  if (migrated.error) throw migrated.error;

  const clock = new FakeClock(Date.parse('2026-03-02T08:00:00.000Z'));
  const now = () => clock.iso();
  const ids = ulidSource();
  const log = quietLogger();
  const metrics = createMetrics();
  const registry = createRegistry(db);
  const users = createUserStore(db);
  const alarms = createAlarmStore(db);
  const policies = await loadPolicies(db);
  const sender = createSender(log);
  const notifier = createNotifier({ db, ids, now, log, channels: { webhook: webhookChannel() }, sender });
  const engine = createAlarmEngine({ db, alarms, ids, now, policies, log, onChange: () => {} });
  const shifts = createShifts({ db, engine, now, connectedUsers: () => new Set() });

  for (const id of [SITE_A, SITE_B]) await registry.createSite({ id, name: id, kind: 'nursing_home', timezone: 'UTC' }, now());
  await registry.createResident({ id: RESIDENT_A, siteId: SITE_A, name: 'Ada', room: '101', bed: null, settings: {} }, now());
  await registry.createResident({ id: RESIDENT_B, siteId: SITE_B, name: 'Bo', room: '201', bed: null, settings: {} }, now());
  const tokens = {} as Record<Account, string>;
  const userIds = {} as Record<Account, string>;
  for (const [name, a] of Object.entries(ACCOUNTS) as Array<[Account, (typeof ACCOUNTS)[Account]]>) {
    const user = await users.create({ id: `usr-${name.toLowerCase()}`, username: name, displayName: null, ...a, passwordHash: 'x' }, now());
    const token = randomBytes(24).toString('base64url');
    await users.createSession(tokenDigest(token), user.id, now(), new Date(clock.now() + 3600_000).toISOString());
    tokens[name] = token;
    userIds[name] = user.id;
  }

  const apps: FastifyInstance[] = [];
  return {
    db,
    clock,
    now,
    ids,
    log,
    metrics,
    registry,
    users,
    alarms,
    policies,
    notifier,
    engine,
    shifts,
    tokens,
    userIds,
    /** An active high-priority fall of a resident (site A's by default), as ingest would raise it. */
    async raise(residentId: string = RESIDENT_A, siteId: string = residentId === RESIDENT_B ? SITE_B : SITE_A): Promise<Alarm> {
      const changed = await db
        .transaction()
        .execute((tx) =>
          engine.apply(
            tx,
            [{ kind: 'raise', type: 'fall', priority: 'high' }],
            { siteId, gatewayId: null, deviceId: `dev-${ids.next()}`, residentId, room: '101', unregistered: false, at: now() },
            'test',
          ),
        );
      const alarm = await alarms.get(changed[0] as string);
      if (!alarm) throw new Error('no alarm raised');
      return alarm;
    },
    /** The base app with authentication and this one plugin, ready for inject(). */
    async app<O extends Record<string, unknown>>(
      plugin: FastifyPluginAsync<O>,
      opts: O,
      parts: { websocket?: boolean } = {},
    ): Promise<FastifyInstance> {
      const app = baseApp(log);
      // As in buildHttpApp: the WebSocket plugin before the routes, for /ws (inject with app.injectWS).
      if (parts.websocket) await app.register(fastifyWebsocket, { options: { maxPayload: 4096 } });
      await app.register(authPlugin, {
        users,
        metrics,
        now,
        tokenTtlMs: 3600_000,
        loginLimits: { perAccount: 1000, perAddress: 1000, hashConcurrency: 2, hashQueue: 32 },
      });
      await app.register(plugin, opts);
      await app.ready();
      apps.push(app);
      return app;
    },
    async close() {
      for (const app of apps) await app.close();
      await sender.stop();
      await db.destroy();
    },
  };
}
export type RouteWorld = Awaited<ReturnType<typeof createRouteWorld>>;

/** A request as `who` (an account, or null: no token). */
export async function call(
  app: FastifyInstance,
  world: RouteWorld,
  who: Account | null,
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  url: string,
  body?: unknown,
): Promise<LightMyRequestResponse> {
  return app.inject({
    method,
    url,
    headers: who ? { authorization: `Bearer ${world.tokens[who]}` } : {},
    ...(body === undefined ? {} : { payload: body as Record<string, unknown> }),
  });
}

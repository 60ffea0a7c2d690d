// The state store and the stores over it; the first start creates the admin user.
import type { Logger } from 'pino';
import type { IdSource } from '../../protocol/index.ts';
import type { ServerConfig } from '../config.ts';
import { generateSecret, hashSecret } from '../security/passwords.ts';
import { createAlarmStore } from '../storage/alarms.ts';
import { openDatabase } from '../storage/db.ts';
import { createRegistry } from '../storage/registry.ts';
import { createUserStore, type UserStore } from '../storage/users.ts';

export async function openStorage(config: Pick<ServerConfig, 'dataDir' | 'databaseUrl'>, log: Logger) {
  const opened = await openDatabase(
    config.dataDir,
    config.databaseUrl,
    (err) => log.warn({ err: err.message }, 'database connection lost; reconnecting on next use'),
    (message, detail) => log.warn(detail, message),
  );
  const { db } = opened;
  return {
    db,
    /** sqlite or postgres. */
    engine: opened.engine,
    /** Resolves once what was committed before the call is on disk. */
    durable: opened.durable,
    registry: createRegistry(db),
    users: createUserStore(db),
    alarms: createAlarmStore(db),
    part: { name: 'storage', stop: () => opened.close() },
  };
}
export type Storage = Awaited<ReturnType<typeof openStorage>>;

/** With no user at all, creates `admin`; returns the password when this start generated it. */
export async function ensureAdmin(deps: {
  users: UserStore;
  adminPassword: string | undefined;
  ids: IdSource;
  now: () => string;
  log: Logger;
}): Promise<string | null> {
  const { users, adminPassword, ids, now, log } = deps;
  if ((await users.count()) > 0) return null;
  const password = adminPassword ?? generateSecret(12);
  await users.create(
    {
      id: `usr-${ids.next().toLowerCase()}`,
      username: 'admin',
      role: 'admin',
      displayName: 'Administrator',
      siteId: null,
      residentId: null,
      passwordHash: await hashSecret(password),
    },
    now(),
  );
  log.info('created user admin');
  return adminPassword ? null : password;
}

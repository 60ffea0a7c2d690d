// Users and their login sessions. Tokens are stored as digests only.
import type { Db } from './registry.ts';
import type { UsersTable } from './tables.ts';

export type Role = UsersTable['role'];
export interface User {
  id: string;
  username: string;
  role: Role;
  displayName: string | null;
  siteId: string | null;
  residentId: string | null;
  /** E.164, for SMS to this person (null: none). */
  phone?: string | null;
  /** A centre operator's area: they see every home in it and below. */
  areaId?: string | null;
}

const user = (r: UsersTable): User => ({
  id: r.id,
  username: r.username,
  role: r.role,
  displayName: r.display_name,
  siteId: r.site_id,
  residentId: r.resident_id,
  phone: r.phone ?? null,
  areaId: r.area_id ?? null,
});

export function createUserStore(db: Db) {
  return {
    async create(u: User & { passwordHash: string }, now: string): Promise<User> {
      const row: UsersTable = {
        id: u.id,
        username: u.username,
        password_hash: u.passwordHash,
        role: u.role,
        display_name: u.displayName,
        site_id: u.siteId,
        resident_id: u.residentId,
        created_at: now,
        phone: u.phone ?? null,
        area_id: u.areaId ?? null,
      };
      await db.insertInto('users').values(row).execute();
      return user(row);
    },
    async list(): Promise<User[]> {
      return (await db.selectFrom('users').selectAll().orderBy('username').execute()).map(user);
    },
    async findForLogin(username: string): Promise<(User & { passwordHash: string }) | undefined> {
      const r = await db.selectFrom('users').selectAll().where('username', '=', username).executeTakeFirst();
      return r && { ...user(r), passwordHash: r.password_hash };
    },
    async count(): Promise<number> {
      const r = await db
        .selectFrom('users')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      return Number(r.n);
    },
    async createSession(tokenHash: string, userId: string, now: string, expiresAt: string): Promise<void> {
      await db.insertInto('sessions').values({ token_hash: tokenHash, user_id: userId, created_at: now, expires_at: expiresAt }).execute();
      await db.deleteFrom('sessions').where('expires_at', '<', now).execute();
    },
    /** Logout: the token is refused from now on, by REST and WebSocket on every instance. */
    async revokeSession(tokenHash: string): Promise<boolean> {
      const r = await db.deleteFrom('sessions').where('token_hash', '=', tokenHash).executeTakeFirst();
      return Number(r.numDeletedRows) > 0;
    },
    async userForSession(tokenHash: string, now: string): Promise<User | undefined> {
      return (await this.session(tokenHash, now))?.user;
    },
    /** A live session's user and when the session expires (ISO). */
    async session(tokenHash: string, now: string): Promise<{ user: User; expiresAt: string } | undefined> {
      const r = await db
        .selectFrom('sessions')
        .innerJoin('users', 'users.id', 'sessions.user_id')
        .selectAll('users')
        .select('sessions.expires_at as session_expires_at')
        .where('sessions.token_hash', '=', tokenHash)
        .where('sessions.expires_at', '>', now)
        .executeTakeFirst();
      return r && { user: user(r), expiresAt: r.session_expires_at };
    },
  };
}
export type UserStore = ReturnType<typeof createUserStore>;

// Login and bearer-token authentication. Tokens are random, stored hashed, and expire.
import { randomBytes } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import Type from 'typebox';
import { LoginAnswer, User as UserSchema } from '../../protocol/api.ts';
import type { Metrics } from '../metrics.ts';
import { createHashQueue, HashQueueFull } from '../security/hash-queue.ts';
import { createLoginLimits } from '../security/login-limits.ts';
import { tokenDigest, verifySecret } from '../security/passwords.ts';
import type { User, UserStore } from '../storage/users.ts';
import { type Access, accessFor } from './access.ts';
import { ApiError, unauthorized } from './errors.ts';
import type { SessionCache } from './session-cache.ts';

/** Failed logins a minute per account and per address; people's password hashing slots and line. */
export interface LoginLimits {
  perAccount: number;
  perAddress: number;
  hashConcurrency: number;
  hashQueue: number;
}

export interface AuthOptions {
  users: UserStore;
  metrics: Metrics;
  now: () => string;
  tokenTtlMs: number;
  loginLimits: LoginLimits;
  /** A session was revoked (its token's digest): the screens opened with it are closed. */
  onLogout?: (tokenDigest: string) => void;
  /** Builds a caller's access, reading what their role's scope is made of (areas, sites, alarms escalated to them). */
  access?: (user: User) => Promise<Access>;
  /** Sessions found valid a moment ago (session-cache.ts); none: every request looks its token up. */
  sessions?: SessionCache<KeptSession>;
}

/** A kept session: its user, and their access when it is read from nothing but the user. */
export interface KeptSession {
  user: User;
  access: Access | null;
}

/**
 * Roles whose access is made of the account alone (loadAccess reads nothing for them), so it can be
 * kept with the session; the others' scope comes from rows that change without a session ending
 * (a responder's notifications), and is read for every request.
 */
const ACCESS_FROM_ACCOUNT: ReadonlySet<string> = new Set(['admin', 'nurse_lead', 'caregiver']);

/** Resolves a bearer token (header, or `token` query for WebSocket handshakes) to a user. */
export async function userForToken(
  deps: { users: Pick<UserStore, 'userForSession'>; now: () => string },
  token: string | undefined,
): Promise<User | undefined> {
  if (!token || token.length > 200) return undefined;
  return deps.users.userForSession(tokenDigest(token), deps.now());
}

export function bearerToken(req: FastifyRequest): string | undefined {
  const h = req.headers.authorization;
  if (h?.startsWith('Bearer ')) return h.slice(7).trim();
  return undefined;
}

// A hash to compare against when the user does not exist, so timing does not reveal usernames.
const DUMMY_HASH = 'scrypt$16384$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';

const auth: FastifyPluginAsyncTypebox<AuthOptions> = async (app, opts) => {
  const { users, metrics, now, tokenTtlMs, loginLimits: settings, onLogout, sessions } = opts;
  app.decorateRequest('access', null as never);
  const buildAccess = (user: User) => (opts.access ? opts.access(user) : accessFor(user));
  app.decorate('authenticate', async (req: FastifyRequest) => {
    const token = bearerToken(req);
    if (!sessions || !token || token.length > 200) {
      const user = await userForToken(opts, token);
      if (!user) throw unauthorized();
      req.access = await buildAccess(user);
      return;
    }
    const kept = sessions.get(token);
    if (kept) {
      req.access = kept.access ?? (await buildAccess(kept.user));
      return;
    }
    const generation = sessions.generation();
    const found = await users.session(tokenDigest(token), now());
    if (!found) throw unauthorized();
    const access = await buildAccess(found.user);
    sessions.set(
      token,
      { user: found.user, access: ACCESS_FROM_ACCOUNT.has(found.user.role) ? access : null },
      Date.parse(found.expiresAt),
      generation,
    );
    req.access = access;
  });

  // Failed logins per account and per address (see login-limits.ts), and people's password hashing
  // on its own bounded queue so that it cannot take the threads gateways' secret checks need.
  const limits = createLoginLimits({ perAccount: settings.perAccount, perAddress: settings.perAddress, windowMs: 60_000 });
  const hashing = createHashQueue({ concurrency: settings.hashConcurrency, maxWaiting: settings.hashQueue });

  app.post(
    '/api/v1/auth/login',
    {
      schema: {
        tags: ['auth'],
        body: Type.Object(
          { username: Type.String({ minLength: 1, maxLength: 100 }), password: Type.String({ minLength: 1, maxLength: 200 }) },
          { additionalProperties: false },
        ),
        response: { 200: LoginAnswer },
      },
    },
    async (req, reply) => {
      const { username, password } = req.body;
      const gate = limits.begin(req.ip, username);
      if (!gate.ok) {
        metrics.securityEvents.inc({ kind: gate.scope === 'account' ? 'login_limited' : 'login_limited_address' });
        reply.header('retry-after', String(Math.max(1, Math.ceil(gate.retryAfterMs / 1000))));
        throw new ApiError(429, 'TOO_MANY_LOGINS', 'too many failed logins; try again later');
      }
      let found: Awaited<ReturnType<typeof users.findForLogin>>;
      let ok = false;
      try {
        found = await users.findForLogin(username);
        ok = await hashing.run(() => verifySecret(password, found?.passwordHash ?? DUMMY_HASH));
      } catch (err) {
        gate.finish('unchecked');
        if (!(err instanceof HashQueueFull)) throw err;
        metrics.securityEvents.inc({ kind: 'login_busy' });
        reply.header('retry-after', '1');
        throw new ApiError(503, 'LOGIN_BUSY', err.message);
      }
      gate.finish(found && ok ? 'succeeded' : 'failed');
      if (!found || !ok) {
        metrics.securityEvents.inc({ kind: 'login_failed' });
        req.log.warn({ username }, 'security: login failed');
        throw new ApiError(401, 'BAD_CREDENTIALS', 'wrong username or password');
      }
      const token = randomBytes(32).toString('base64url');
      const expiresAt = new Date(Date.parse(now()) + tokenTtlMs).toISOString();
      await users.createSession(tokenDigest(token), found.id, now(), expiresAt);
      const { passwordHash: _, ...user } = found;
      return { token, expiresAt, user };
    },
  );

  // Logout revokes the session: the token is refused from now on, and this instance's screens
  // opened with it are closed.
  app.post(
    '/api/v1/auth/logout',
    { onRequest: app.authenticate, schema: { tags: ['auth'], response: { 200: Type.Object({ loggedOut: Type.Boolean() }) } } },
    async (req) => {
      const digest = tokenDigest(bearerToken(req) as string);
      await users.revokeSession(digest);
      // Refused from here on, by this instance too (app.ts forgets kept sessions after any write;
      // this holds where the plugin serves without it).
      sessions?.clear();
      onLogout?.(digest);
      return { loggedOut: true };
    },
  );

  app.get(
    '/api/v1/auth/me',
    { onRequest: app.authenticate, schema: { tags: ['auth'], response: { 200: Type.Object({ user: UserSchema }) } } },
    async (req) => ({ user: req.access.user }),
  );
};

/** Not encapsulated: `authenticate` and `req.access` serve every route plugin registered after it. */
export const authPlugin = fp(auth);

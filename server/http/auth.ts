// Login and bearer-token authentication. Tokens are random, stored hashed, and expire.
import { randomBytes } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import Type from 'typebox';
import { tokenDigest, verifySecret } from '../security/passwords.ts';
import type { User } from '../storage/users.ts';
import { accessFor } from './access.ts';
import type { HttpContext } from './context.ts';
import { ApiError, unauthorized } from './errors.ts';

export const UserSchema = Type.Object({
  id: Type.String(),
  username: Type.String(),
  role: Type.String(),
  displayName: Type.Union([Type.String(), Type.Null()]),
  siteId: Type.Union([Type.String(), Type.Null()]),
  residentId: Type.Union([Type.String(), Type.Null()]),
});

/** Resolves a bearer token (header, or `token` query for WebSocket handshakes) to a user. */
export async function userForToken(ctx: HttpContext, token: string | undefined): Promise<User | undefined> {
  if (!token || token.length > 200) return undefined;
  return ctx.users.userForSession(tokenDigest(token), ctx.now());
}

export function bearerToken(req: FastifyRequest): string | undefined {
  const h = req.headers.authorization;
  if (h?.startsWith('Bearer ')) return h.slice(7).trim();
  return undefined;
}

// A hash to compare against when the user does not exist, so timing does not reveal usernames.
const DUMMY_HASH = 'scrypt$16384$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';

export const authPlugin = fp<{ ctx: HttpContext; onLogout?: (tokenDigest: string) => void }>(async (app, { ctx, onLogout }) => {
  app.decorateRequest('access', null as never);
  app.decorate('authenticate', async (req: FastifyRequest) => {
    const user = await userForToken(ctx, bearerToken(req));
    if (!user) throw unauthorized();
    req.access = accessFor(user);
  });

  app.post(
    '/api/v1/auth/login',
    {
      config: {
        // Password guessing against one account from one address is slowed to a crawl.
        rateLimit: {
          max: ctx.loginRateLimit,
          timeWindow: 60_000,
          keyGenerator: (req: FastifyRequest) => `${req.ip}|${String((req.body as { username?: unknown } | undefined)?.username ?? '')}`,
        },
      },
      schema: {
        tags: ['auth'],
        body: Type.Object(
          { username: Type.String({ minLength: 1, maxLength: 100 }), password: Type.String({ minLength: 1, maxLength: 200 }) },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ token: Type.String(), expiresAt: Type.String(), user: UserSchema }) },
      },
    },
    async (req) => {
      const { username, password } = req.body as { username: string; password: string };
      const found = await ctx.users.findForLogin(username);
      const ok = await verifySecret(password, found?.passwordHash ?? DUMMY_HASH);
      if (!found || !ok) {
        ctx.metrics.securityEvents.inc({ kind: 'login_failed' });
        req.log.warn({ username }, 'security: login failed');
        throw new ApiError(401, 'BAD_CREDENTIALS', 'wrong username or password');
      }
      const token = randomBytes(32).toString('base64url');
      const expiresAt = new Date(Date.parse(ctx.now()) + ctx.tokenTtlMs).toISOString();
      await ctx.users.createSession(tokenDigest(token), found.id, ctx.now(), expiresAt);
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
      await ctx.users.revokeSession(digest);
      onLogout?.(digest);
      return { loggedOut: true };
    },
  );

  app.get(
    '/api/v1/auth/me',
    { onRequest: app.authenticate, schema: { tags: ['auth'], response: { 200: Type.Object({ user: UserSchema }) } } },
    async (req) => ({ user: req.access.user }),
  );
});

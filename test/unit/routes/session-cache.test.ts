// A kept session (server/http/session-cache.ts) in the real auth plugin, through inject: it is
// used (a session row deleted behind the server's back is still honoured, for at most the cache's
// lifetime), it never outlives the session's expiry, and a logout on this instance is refused at once.
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { baseApp } from '../../../server/http/app.ts';
import { authPlugin, type KeptSession } from '../../../server/http/auth.ts';
import { createSessionCache } from '../../../server/http/session-cache.ts';
import { tokenDigest } from '../../../server/security/passwords.ts';
import { createRouteWorld, type RouteWorld } from '../../helpers/routes.ts';

let world: RouteWorld;
let app: FastifyInstance;
const TTL_MS = 1000;

beforeAll(async () => {
  world = await createRouteWorld();
  app = baseApp(world.log);
  await app.register(authPlugin, {
    users: world.users,
    metrics: world.metrics,
    now: world.now,
    tokenTtlMs: 3600_000,
    loginLimits: { perAccount: 1000, perAddress: 1000, hashConcurrency: 2, hashQueue: 32 },
    sessions: createSessionCache<KeptSession>({ now: () => world.clock.now(), ttlMs: TTL_MS }),
  });
  await app.ready();
});
afterAll(async () => {
  await app?.close();
  await world?.close();
});

/** A new session of the site A caregiver, expiring `ms` from now. */
async function session(ms = 3600_000): Promise<string> {
  const token = randomBytes(24).toString('base64url');
  await world.users.createSession(
    tokenDigest(token),
    world.userIds.caregiverA,
    world.now(),
    new Date(world.clock.now() + ms).toISOString(),
  );
  return token;
}
const me = async (token: string) =>
  (await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { authorization: `Bearer ${token}` } })).statusCode;

describe('kept sessions', () => {
  it('answers from the kept session, and looks it up again after the cache lifetime', async () => {
    const token = await session();
    expect(await me(token)).toBe(200);
    // Gone from the database without this instance knowing (only another process could do that).
    await world.db.deleteFrom('sessions').where('token_hash', '=', tokenDigest(token)).execute();
    expect(await me(token)).toBe(200);
    world.clock.advance(TTL_MS + 1);
    expect(await me(token)).toBe(401);
  });

  it('never serves a session past its expiry', async () => {
    const token = await session(500);
    expect(await me(token)).toBe(200);
    world.clock.advance(499);
    expect(await me(token)).toBe(200);
    world.clock.advance(1);
    expect(await me(token)).toBe(401);
  });

  it('refuses a token at once after its logout here, and keeps serving the account’s other session', async () => {
    const token = await session();
    const other = await session();
    expect(await me(token)).toBe(200);
    expect(await me(other)).toBe(200);
    const out = await app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: { authorization: `Bearer ${token}` } });
    expect(out.statusCode).toBe(200);
    expect(await me(token)).toBe(401);
    expect(await me(other)).toBe(200);
  });
});

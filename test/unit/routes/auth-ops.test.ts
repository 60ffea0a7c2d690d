// Login, logout and the caller (auth.ts), health, readiness and /metrics (ops.ts), and the external
// broker's hooks (broker-hooks.ts), through inject (test/helpers/routes.ts).
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { brokerHookRoutes } from '../../../server/http/broker-hooks.ts';
import { opsRoutes } from '../../../server/http/ops.ts';
import { hashSecret } from '../../../server/security/passwords.ts';
import { call, createRouteWorld, type RouteWorld, SITE_A } from '../../helpers/routes.ts';

let world: RouteWorld;
let auth: FastifyInstance;
let ops: FastifyInstance;
let hooks: FastifyInstance;
let healthy = true;
const HOOK_SECRET = 'broker-hook-secret-0123456789';
const GATEWAY_SECRET = 'gateway-secret-abcdefghijkl';

beforeAll(async () => {
  world = await createRouteWorld();
  await world.users.create(
    {
      id: 'usr-nina',
      username: 'nina',
      role: 'caregiver',
      displayName: 'Nina',
      siteId: SITE_A,
      residentId: null,
      passwordHash: await hashSecret('correct horse battery'),
    },
    world.now(),
  );
  await world.registry.createGateway(
    { id: 'gw-1', siteId: SITE_A, name: 'Hall', secretHash: await hashSecret(GATEWAY_SECRET) },
    world.now(),
  );
  // The auth plugin alone (every world app has it): a plugin with no routes of its own.
  auth = await world.app(async () => {}, {});
  const status = async () => ({ ok: healthy, checks: { database: healthy }, details: { database: { writeMs: 1 } } });
  ops = await world.app(opsRoutes, {
    exposure: { metricsToken: 'metrics-token-0123456789', metricsWithoutToken: false },
    log: world.log,
    metrics: world.metrics,
    wsClients: () => 3,
    health: status,
    readiness: status,
    refreshMetrics: async () => {},
  });
  hooks = await world.app(brokerHookRoutes, {
    registry: world.registry,
    metrics: world.metrics,
    hooks: { secret: HOOK_SECRET, serverUser: { username: 'care-server', password: 'server-pass' } },
  });
});
afterAll(() => world.close());

describe('auth routes', () => {
  it('refuse a login without a password (400) and with a wrong one (401)', async () => {
    const missing = await call(auth, world, null, 'POST', '/api/v1/auth/login', { username: 'nina' });
    expect(missing.statusCode).toBe(400);
    expect(missing.json().message).toMatch(/password/);
    const wrong = await call(auth, world, null, 'POST', '/api/v1/auth/login', { username: 'nina', password: 'wrong password' });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json()).toMatchObject({ error: 'BAD_CREDENTIALS' });
  });

  it('log in, answer who the caller is, and refuse the token after logout', async () => {
    const login = await call(auth, world, null, 'POST', '/api/v1/auth/login', { username: 'nina', password: 'correct horse battery' });
    expect(login.statusCode).toBe(200);
    const { token, user } = login.json() as { token: string; user: Record<string, unknown> };
    expect(user).toMatchObject({
      id: 'usr-nina',
      username: 'nina',
      role: 'caregiver',
      displayName: 'Nina',
      siteId: SITE_A,
      residentId: null,
    });
    const headers = { authorization: `Bearer ${token}` };
    const me = await auth.inject({ method: 'GET', url: '/api/v1/auth/me', headers });
    expect(me.json()).toMatchObject({ user: { username: 'nina' } });
    expect((await auth.inject({ method: 'POST', url: '/api/v1/auth/logout', headers })).json()).toEqual({ loggedOut: true });
    expect((await auth.inject({ method: 'GET', url: '/api/v1/auth/me', headers })).statusCode).toBe(401);
    expect((await call(auth, world, null, 'GET', '/api/v1/auth/me')).statusCode).toBe(401);
  });
});

describe('ops routes', () => {
  it('answer health and readiness without a login: 200 healthy, 503 not', async () => {
    const ok = await ops.inject({ method: 'GET', url: '/healthz' });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toEqual({ status: 'ok', checks: { database: true }, database: { writeMs: 1 } });
    healthy = false;
    expect((await ops.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(503);
    expect((await ops.inject({ method: 'GET', url: '/readyz' })).json()).toMatchObject({ status: 'not ready' });
    healthy = true;
  });

  it('serve /metrics with its token only', async () => {
    expect((await ops.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(401);
    expect((await call(ops, world, 'admin', 'GET', '/metrics')).statusCode).toBe(401);
    const res = await ops.inject({ method: 'GET', url: '/metrics', headers: { authorization: 'Bearer metrics-token-0123456789' } });
    expect(res.statusCode).toBe(200);
    expect(res.body).toMatch(/care_ws_clients 3/);
  });
});

describe('broker hook routes', () => {
  const hook = (url: string, body: unknown, secret = HOOK_SECRET) =>
    hooks.inject({ method: 'POST', url, payload: body as object, headers: { authorization: `Bearer ${secret}` } });

  it('answer nothing to a caller without the shared secret', async () => {
    const res = await hook('/broker/v1/authenticate', { clientid: 'gw-1', username: 'gw-1', password: GATEWAY_SECRET }, 'guess');
    expect(res.statusCode).toBe(401);
    expect(res.json()).toEqual({ result: 'deny' });
  });

  it('answer a malformed question with 400', async () => {
    expect((await hook('/broker/v1/authorize', { clientid: 'gw-1' })).statusCode).toBe(400);
  });

  it('let a gateway in with its secret, on its own topics only', async () => {
    expect((await hook('/broker/v1/authenticate', { clientid: 'gw-1', username: 'gw-1', password: GATEWAY_SECRET })).json()).toEqual({
      result: 'allow',
      is_superuser: false,
    });
    expect((await hook('/broker/v1/authenticate', { clientid: 'gw-1', username: 'gw-1', password: 'wrong' })).json()).toEqual({
      result: 'deny',
    });
    const own = await hook('/broker/v1/authorize', {
      clientid: 'gw-1',
      username: 'gw-1',
      topic: `care/v1/${SITE_A}/gw-1/status`,
      action: 'publish',
    });
    expect(own.json()).toEqual({ result: 'allow' });
    const other = await hook('/broker/v1/authorize', {
      clientid: 'gw-1',
      username: 'gw-1',
      topic: 'care/v1/site-b/gw-2/status',
      action: 'publish',
    });
    expect(other.json()).toEqual({ result: 'deny' });
    expect((await hook('/broker/v1/authenticate', { clientid: 'x', username: 'care-server', password: 'server-pass' })).json()).toEqual({
      result: 'allow',
      is_superuser: true,
    });
  });
});

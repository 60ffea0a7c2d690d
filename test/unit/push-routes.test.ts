// The Web Push subscription routes (server/channels/routes.ts) through Fastify's inject on a real
// SQLite store: a user registers and removes their own browsers only, re-registering an endpoint
// replaces it, a user's browsers are capped, endpoints must be a push service's https address.
// Who calls is set by a test header (sessions are tested elsewhere; nothing here needs a socket).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ulidSource } from '../../protocol/index.ts';
import { createPushSubscriptions, MAX_SUBSCRIPTIONS_PER_USER, type PushSubscriptions } from '../../server/channels/push.ts';
import { pushRoutes } from '../../server/channels/routes.ts';
import { ApiError } from '../../server/http/errors.ts';
import { type OpenedDatabase, openDatabase } from '../../server/storage/db.ts';

const NOW = '2026-12-02T04:00:00.000Z';
let dir: string;
let opened: OpenedDatabase;
let app: FastifyInstance;
let subs: PushSubscriptions;
const keys = { p256dh: `B${'A'.repeat(86)}`, auth: 'A'.repeat(22) };

const as = (who: string | null, method: 'GET' | 'POST' | 'DELETE', url: string, payload?: object) =>
  app.inject({ method, url, headers: who ? { 'x-test-user': who } : {}, ...(payload ? { payload } : {}) });

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'push-routes-'));
  opened = await openDatabase(dir);
  subs = createPushSubscriptions(opened.db, ulidSource(), () => NOW);
  // The server's own validator options (server/http/app.ts): unknown properties are refused, not dropped.
  app = Fastify({
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true } },
  }).withTypeProvider<TypeBoxTypeProvider>();
  app.setErrorHandler((err: Error & { statusCode?: number; validation?: unknown }, _req, reply) =>
    reply.code(err instanceof ApiError ? err.statusCode : err.validation ? 400 : 500).send({ message: err.message }),
  );
  app.decorateRequest('access', null as never);
  app.decorate('authenticate', async (req) => {
    const id = req.headers['x-test-user'];
    if (typeof id !== 'string') throw new ApiError(401, 'UNAUTHORIZED', 'no user');
    req.access = { user: { id } } as never;
  });
  await app.register(pushRoutes, { subscriptions: subs, vapidPublicKey: 'PUBLIC-KEY' });
});
afterAll(async () => {
  await app?.close();
  await opened?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('push subscription routes', () => {
  it('hands the VAPID public key to a logged-in user only', async () => {
    expect((await as('u1', 'GET', '/api/v1/push/vapid-public-key')).json()).toEqual({ publicKey: 'PUBLIC-KEY' });
    expect((await as(null, 'GET', '/api/v1/push/vapid-public-key')).statusCode).toBe(401);
  });

  it('registers a browser for the caller; another user cannot remove it', async () => {
    const r = await as('u1', 'POST', '/api/v1/push/subscriptions', { endpoint: 'https://fcm.googleapis.com/fcm/send/abc', keys });
    expect(r.statusCode).toBe(201);
    const { id } = r.json() as { id: string };
    expect((await subs.get(id))?.user_id).toBe('u1');
    expect((await as('u2', 'DELETE', `/api/v1/push/subscriptions/${id}`)).statusCode).toBe(404);
    expect(await subs.get(id)).toBeTruthy();
    expect((await as('u1', 'DELETE', `/api/v1/push/subscriptions/${id}`)).json()).toEqual({ removed: true });
    expect(await subs.get(id)).toBeUndefined();
  });

  it('one endpoint is one browser: registering it again (another login) replaces the old one', async () => {
    const endpoint = 'https://updates.push.services.mozilla.com/wpush/v2/xyz';
    const a = (await as('u1', 'POST', '/api/v1/push/subscriptions', { endpoint, keys })).json() as { id: string };
    const b = (await as('u2', 'POST', '/api/v1/push/subscriptions', { endpoint, keys })).json() as { id: string };
    expect(await subs.get(a.id)).toBeUndefined();
    expect((await subs.get(b.id))?.user_id).toBe('u2');
  });

  it(`keeps at most ${MAX_SUBSCRIPTIONS_PER_USER} browsers per user (the newest)`, async () => {
    for (let i = 0; i < MAX_SUBSCRIPTIONS_PER_USER + 3; i += 1)
      expect(
        (await as('many', 'POST', '/api/v1/push/subscriptions', { endpoint: `https://push.example.org/s/${i}`, keys })).statusCode,
      ).toBe(201);
    const mine = await subs.forUser('many');
    expect(mine).toHaveLength(MAX_SUBSCRIPTIONS_PER_USER);
    expect(mine.map((s) => s.endpoint)).toContain(`https://push.example.org/s/${MAX_SUBSCRIPTIONS_PER_USER + 2}`);
  });

  it('refuses what is not a push service address or not a browser key', async () => {
    for (const endpoint of ['http://10.0.0.5/admin', 'ftp://push.example.org/x', 'https://user:pw@push.example.org/x', 'not a url at all'])
      expect((await as('u1', 'POST', '/api/v1/push/subscriptions', { endpoint, keys })).statusCode, endpoint).toBe(400);
    expect(
      (
        await as('u1', 'POST', '/api/v1/push/subscriptions', {
          endpoint: 'https://push.example.org/k',
          keys: { p256dh: 'short', auth: 'A'.repeat(22) },
        })
      ).statusCode,
    ).toBe(400);
    expect(
      (await as('u1', 'POST', '/api/v1/push/subscriptions', { endpoint: 'https://push.example.org/k', keys, extra: 1 })).statusCode,
    ).toBe(400);
    expect((await as(null, 'POST', '/api/v1/push/subscriptions', { endpoint: 'https://push.example.org/k', keys })).statusCode).toBe(401);
  });
});

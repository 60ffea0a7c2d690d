// The /ws handshake and first message through @fastify/websocket's injectWS (no socket):
// a missing token or a foreign origin is refused before the upgrade; a screen gets a snapshot of
// the open alarms of its own scope only.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type WebSocket from 'ws';
import type { Alarm, WsSnapshot } from '../../../protocol/index.ts';
import { accessFor } from '../../../server/http/access.ts';
import { nextCounter } from '../../../server/storage/counters.ts';
import type { User } from '../../../server/storage/users.ts';
import { createFeed } from '../../../server/ws/feed.ts';
import { createGatewaySites } from '../../../server/ws/gateway-sites.ts';
import { createScreenSessions, wsRoutes } from '../../../server/ws/routes.ts';
import { createRouteWorld, RESIDENT_B, type RouteWorld } from '../../helpers/routes.ts';

let world: RouteWorld;
let app: FastifyInstance;
let a: Alarm;
let b: Alarm;

beforeAll(async () => {
  world = await createRouteWorld();
  a = await world.raise();
  b = await world.raise(RESIDENT_B);
  const feed = createFeed(world.log, async (scope) => (await world.alarms.listForScope(scope, { open: true, limit: 2000 })).alarms, {
    epoch: await nextCounter(world.db, 'feed_epoch'),
  });
  const gatewaySites = createGatewaySites(world.registry, () => {});
  app = await world.app(
    wsRoutes,
    {
      db: world.db,
      users: world.users,
      feed,
      metrics: world.metrics,
      now: world.now,
      allowedOrigins: [],
      gatewaySites,
      sessions: createScreenSessions(),
      access: async (user: User) => accessFor(user),
    },
    { websocket: true },
  );
});
afterAll(() => world.close());

const firstMessage = (ws: WebSocket) =>
  new Promise<WsSnapshot>((resolve, reject) => {
    ws.once('message', (data) => resolve(JSON.parse(String(data)) as WsSnapshot));
    ws.once('error', reject);
  });

describe('/ws', () => {
  it('refuses a handshake without a valid token', async () => {
    await expect(app.injectWS('/ws')).rejects.toThrow(/401/);
    await expect(app.injectWS('/ws?token=nonsense')).rejects.toThrow(/401/);
  });

  it('refuses a page of another origin, even with a token', async () => {
    await expect(
      app.injectWS(`/ws?token=${world.tokens.admin}`, { headers: { origin: 'https://evil.example', host: 'care.local' } }),
    ).rejects.toThrow(/403/);
  });

  it('answers a bad since with 400', async () => {
    await expect(app.injectWS(`/ws?token=${world.tokens.admin}&since=-1`)).rejects.toThrow(/400/);
  });

  it('sends each screen a snapshot of its own scope', async () => {
    const ids = async (who: keyof RouteWorld['tokens']) => {
      let message: Promise<WsSnapshot> | undefined;
      const ws = await app.injectWS(
        `/ws?token=${world.tokens[who]}`,
        {},
        {
          onInit: (s) => {
            message = firstMessage(s);
          },
        },
      );
      const snapshot = await (message as Promise<WsSnapshot>);
      ws.terminate();
      expect(snapshot.type).toBe('snapshot');
      return snapshot.alarms.map((x) => x.id).sort();
    };
    expect(await ids('admin')).toEqual([a.id, b.id].sort());
    expect(await ids('leadA')).toEqual([a.id]);
    expect(await ids('caregiverB')).toEqual([b.id]);
    expect(await ids('familyA')).toEqual([a.id]);
  });
});

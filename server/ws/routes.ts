// `/ws?token=...&since=N`: the caregivers' live feed (DESIGN.md 3.6). The token is checked at the
// handshake; a bad or missing one is refused before the upgrade.
import type {} from '@fastify/websocket';
import type { FastifyPluginAsync } from 'fastify';
import Type from 'typebox';
import { accessFor } from '../http/access.ts';
import { userForToken } from '../http/auth.ts';
import type { HttpContext } from '../http/context.ts';
import { ApiError, unauthorized } from '../http/errors.ts';

/** Protocol-level pings find screens whose connection died without a close. */
const PING_EVERY_MS = 15_000;

export const wsRoutes: FastifyPluginAsync<{ ctx: HttpContext }> = async (app, { ctx }) => {
  app.get(
    '/ws',
    {
      websocket: true,
      schema: {
        hide: true,
        querystring: Type.Object(
          { token: Type.Optional(Type.String({ maxLength: 200 })), since: Type.Optional(Type.Integer({ minimum: 0 })) },
          { additionalProperties: false },
        ),
      },
      preValidation: async (req) => {
        // Browsers send Origin: a page on another site must not open a screen with a stolen token.
        const origin = req.headers.origin;
        if (origin && !ctx.allowedOrigins.includes(origin)) {
          let sameHost = false;
          try {
            sameHost = new URL(origin).host === req.headers.host;
          } catch {
            sameHost = false;
          }
          if (!sameHost) {
            ctx.metrics.securityEvents.inc({ kind: 'ws_bad_origin' });
            throw new ApiError(403, 'BAD_ORIGIN', 'origin not allowed');
          }
        }
        const user = await userForToken(ctx, (req.query as { token?: string }).token);
        if (!user) throw unauthorized('missing or invalid token');
        req.access = accessFor(user);
      },
    },
    (socket, req) => {
      const access = req.access;
      const { since } = req.query as { since?: number };
      // Screens only listen; anything they send is ignored (a ping keeps proxies from idling out).
      socket.on('message', () => {});
      const client = {
        userId: access.user.id,
        send: (data: string) => socket.send(data),
        get bufferedAmount() {
          return socket.bufferedAmount;
        },
        terminate: () => socket.terminate(),
        canSee: access.canSeeAlarm,
        canSeeStatus: () => access.canAct,
      };
      let alive = true;
      socket.on('pong', () => {
        alive = true;
      });
      const ping = setInterval(() => {
        if (!alive) {
          req.log.info('screen stopped answering pings; closed');
          socket.terminate();
          return;
        }
        alive = false;
        socket.ping();
      }, PING_EVERY_MS);
      ping.unref();
      socket.on('close', () => {
        clearInterval(ping);
        ctx.feed.detach(client);
      });
      socket.on('error', () => ctx.feed.detach(client));
      ctx.feed.attach(client, since).catch((err: unknown) => {
        req.log.error({ err }, 'could not send snapshot');
        socket.close(1011, 'snapshot failed');
      });
    },
  );
};

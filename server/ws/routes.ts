// `/ws?token=...&since=N`: the caregivers' live feed (DESIGN.md 3.6). The token is checked at the
// handshake; a bad or missing one is refused before the upgrade.
import type {} from '@fastify/websocket';
import type { FastifyPluginAsync } from 'fastify';
import Type from 'typebox';
import { accessFor } from '../http/access.ts';
import { userForToken } from '../http/auth.ts';
import type { HttpContext } from '../http/context.ts';
import { unauthorized } from '../http/errors.ts';

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
        send: (data: string) => socket.send(data),
        get bufferedAmount() {
          return socket.bufferedAmount;
        },
        terminate: () => socket.terminate(),
        canSee: access.canSeeAlarm,
        canSeeStatus: () => access.canAct,
      };
      socket.on('close', () => ctx.feed.detach(client));
      socket.on('error', () => ctx.feed.detach(client));
      ctx.feed.attach(client, since).catch((err: unknown) => {
        req.log.error({ err }, 'could not send snapshot');
        socket.close(1011, 'snapshot failed');
      });
    },
  );
};

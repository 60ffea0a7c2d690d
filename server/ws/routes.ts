// `/ws?token=...&since=N`: the caregivers' live feed (DESIGN.md 3.6). The token is checked at the
// handshake; a bad or missing one is refused before the upgrade.
import type {} from '@fastify/websocket';
import type { FastifyPluginAsync } from 'fastify';
import Type from 'typebox';
import { accessFor } from '../http/access.ts';
import { userForToken } from '../http/auth.ts';
import type { HttpContext } from '../http/context.ts';
import { ApiError, unauthorized } from '../http/errors.ts';
import { tokenDigest } from '../security/passwords.ts';
import type { GatewaySites } from './gateway-sites.ts';

/** Protocol-level pings find screens whose connection died without a close. */
const PING_EVERY_MS = 15_000;

/** The screens open on this instance under each session, so a logout closes them at once. */
export function createScreenSessions() {
  const open = new Map<string, Set<() => void>>();
  return {
    add(digest: string, close: () => void): () => void {
      const set = open.get(digest) ?? new Set();
      set.add(close);
      open.set(digest, set);
      return () => {
        set.delete(close);
        if (set.size === 0 && open.get(digest) === set) open.delete(digest);
      };
    },
    /** The session was revoked: its screens are closed (they reconnect, and are refused). */
    revoked(digest: string): void {
      for (const close of open.get(digest) ?? []) close();
      open.delete(digest);
    },
  };
}
export type ScreenSessions = ReturnType<typeof createScreenSessions>;

/** Close code for a screen whose session was revoked (4000-4999 are the application's). */
export const WS_CLOSE_LOGGED_OUT = 4401;

export const wsRoutes: FastifyPluginAsync<{ ctx: HttpContext; gatewaySites: GatewaySites; sessions: ScreenSessions }> = async (
  app,
  { ctx, gatewaySites, sessions },
) => {
  await gatewaySites.refresh();
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
      const { since, token } = req.query as { since?: number; token: string };
      // Device status and battery are a site's business: staff bound to a site see their own
      // gateways' only (an unknown gateway: nobody bound to a site); family accounts see none.
      const canSeeStatus = (gatewayId: string) => {
        if (!access.canAct) return false;
        if (access.isAdmin || access.user.siteId === null) return true;
        const siteId = gatewaySites.siteOf(gatewayId);
        return siteId !== undefined && access.canSeeSite(siteId);
      };
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
        scope: access.alarmScope,
        canSeeStatus,
      };
      const digest = tokenDigest(token);
      const loggedOut = () => socket.close(WS_CLOSE_LOGGED_OUT, 'logged out');
      const forget = sessions.add(digest, loggedOut);
      // A logout on another instance deletes the session row: each ping looks for it, so the screen
      // is closed within a ping there too. Until its expiry a missing row can only mean a logout; a
      // session that merely expired keeps its open screen (docs/decisions.md).
      let sessionEndsAt = Number.POSITIVE_INFINITY;
      const session = () => ctx.db.selectFrom('sessions').select('expires_at').where('token_hash', '=', digest).executeTakeFirst();
      session()
        .then((row) => {
          if (row) sessionEndsAt = Date.parse(row.expires_at);
          else loggedOut();
        })
        .catch((err: unknown) => req.log.warn({ err }, 'reading the session of a screen failed'));
      const checkRevoked = () => {
        if (Date.parse(ctx.now()) >= sessionEndsAt) return;
        session()
          .then((row) => {
            if (!row) loggedOut();
          })
          .catch((err: unknown) => req.log.warn({ err }, 'reading the session of a screen failed'));
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
        checkRevoked();
      }, PING_EVERY_MS);
      ping.unref();
      socket.on('close', () => {
        clearInterval(ping);
        forget();
        ctx.feed.detach(client);
      });
      socket.on('error', () => {
        forget();
        ctx.feed.detach(client);
      });
      ctx.feed.attach(client, since).catch((err: unknown) => {
        req.log.error({ err }, 'could not send snapshot');
        socket.close(1011, 'snapshot failed');
      });
    },
  );
};

// `/ws?token=...&since=N`: the caregivers' live feed (DESIGN.md 3.6). The token is checked at the
// handshake; a bad or missing one is refused before the upgrade.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type {} from '@fastify/websocket';
import Type from 'typebox';
import type { Access } from '../http/access.ts';
import { userForToken } from '../http/auth.ts';
import { ApiError, unauthorized } from '../http/errors.ts';
import type { Metrics } from '../metrics.ts';
import { tokenDigest } from '../security/passwords.ts';
import type { Db } from '../storage/registry.ts';
import type { User, UserStore } from '../storage/users.ts';
import type { Feed } from './feed.ts';
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

export interface WsRouteOptions {
  /** Sessions are read at the handshake and at each ping (a logout on another instance). */
  db: Db;
  users: Pick<UserStore, 'userForSession'>;
  feed: Pick<Feed, 'attach' | 'detach' | 'refresh'>;
  metrics: Metrics;
  now: () => string;
  /** Origins besides the page's own host that may open a screen. */
  allowedOrigins: string[];
  gatewaySites: GatewaySites;
  sessions: ScreenSessions;
  /** A caller's access, with what their role's scope is made of (access.ts loadAccess). */
  access: (user: User) => Promise<Access>;
}

export const wsRoutes: FastifyPluginAsyncTypebox<WsRouteOptions> = async (app, { gatewaySites, sessions, access: accessOf, ...ctx }) => {
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
        const user = await userForToken(ctx, req.query.token);
        if (!user) throw unauthorized('missing or invalid token');
        req.access = await accessOf(user);
      },
    },
    (socket, req) => {
      let access = req.access;
      const { since } = req.query;
      // preValidation refused the upgrade without a token that names a session.
      const token = req.query.token ?? '';
      // Device status and battery are a site's business: staff bound to a site see their own
      // gateways' only (an unknown gateway: nobody bound to a site); family accounts see none.
      const canSeeStatus = (gatewayId: string) => {
        if (!access.canAct) return false;
        if (access.allSites) return true;
        const siteId = gatewaySites.siteOf(gatewayId);
        return siteId !== undefined && access.canSeeSite(siteId);
      };
      // Screens only listen; anything they send is ignored (a ping keeps proxies from idling out).
      socket.on('message', () => {});
      // Messages sent in one turn of the event loop leave in one write: the TCP socket is corked at
      // the first and uncorked on the next turn (setImmediate), so a burst of alarms costs one
      // writev per screen, not one per message (writev was 26 % of the main thread at 1,000
      // alarms/s to 10 screens). ws keeps its socket private; without one, sends go one by one.
      const tcp = (socket as unknown as { _socket?: { cork(): void; uncork(): void; destroyed?: boolean } })._socket;
      let corked = false;
      const uncork = () => {
        corked = false;
        if (tcp && !tcp.destroyed) tcp.uncork();
      };
      const client = {
        userId: access.user.id,
        send: (data: string) => {
          if (tcp && !corked && !tcp.destroyed) {
            tcp.cork();
            corked = true;
            setImmediate(uncork);
          }
          socket.send(data);
        },
        get bufferedAmount() {
          return socket.bufferedAmount;
        },
        terminate: () => socket.terminate(),
        canSee: (a: Parameters<Access['canSeeAlarm']>[0]) => access.canSeeAlarm(a) || maybeNewlyVisible(a),
        get scope() {
          return access.alarmScope;
        },
        canSeeStatus,
      };
      // Scopes that grow while the screen is open (an alarm escalated to a responder, a home placed
      // in a centre's area, a relative added) are read again on each ping; a responder's also a
      // second after an escalated alarm they cannot see changes (it may just have reached them).
      // When the scope grew, the screen gets a fresh snapshot. At most one read in flight per screen.
      const growing = ['responder', 'centre_operator', 'grid_worker', 'family'].includes(access.user.role);
      let reading = false;
      let soon: NodeJS.Timeout | null = null;
      const refreshScope = () => {
        if (!growing || reading) return;
        reading = true;
        accessOf(access.user)
          .then(async (next) => {
            const before = JSON.stringify(access.alarmScope);
            const grew = access.user.role === 'responder' || before !== JSON.stringify(next.alarmScope);
            const had = access;
            access = next;
            if (grew && (await ctx.feed.refresh(client, (a) => !had.canSeeAlarm(a)))) req.log.debug('screen scope grew');
          })
          .catch((err: unknown) => req.log.warn({ err }, 'reading the scope of a screen failed'))
          .finally(() => {
            reading = false;
          });
      };
      function maybeNewlyVisible(a: Parameters<Access['canSeeAlarm']>[0]): boolean {
        if (access.user.role === 'responder' && a.state !== 'resolved' && a.escalationLevel > 0 && soon === null) {
          soon = setTimeout(() => {
            soon = null;
            refreshScope();
          }, 1000);
          soon.unref();
        }
        return false;
      }
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
        refreshScope();
      }, PING_EVERY_MS);
      ping.unref();
      socket.on('close', () => {
        clearInterval(ping);
        if (soon) clearTimeout(soon);
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

// The embedded Aedes broker: per-gateway authentication with the secret issued at registration,
// client id bound to the gateway id, default-deny topic ACLs, and an in-process subscription that
// hands every uplink message to ingest.
import net from 'node:net';
import tls from 'node:tls';
import { Aedes, type AuthenticateError, type Client } from 'aedes';
import type { Logger } from 'pino';
import { SERVER_SUBSCRIPTIONS } from '../../protocol/index.ts';
import type { Metrics } from '../metrics.ts';
import { verifySecret } from '../security/passwords.ts';
import { acceptableClientId, type GatewayIdentity, mayPublish, maySubscribe } from './policy.ts';

export interface BrokerDeps {
  log: Logger;
  metrics: Metrics;
  lookupGateway: (id: string) => Promise<{ siteId: string; secretHash: string } | undefined>;
  onMessage: (topic: string, payload: Buffer) => Promise<void>;
  /** Per-gateway publish rate: a token bucket refilled at `perSecond`, holding up to `burst`. */
  rate?: { perSecond: number; burst: number };
}

export interface EmbeddedBroker {
  aedes: Aedes;
  listen(port: number, host?: string): Promise<number>;
  /** MQTT over TLS; with `ca`, gateways must present a certificate it signed, named for the gateway. */
  listenTls(port: number, host: string, opts: { cert: string; key: string; ca: string | null }): Promise<number>;
  publish(topic: string, payload: string): void;
  /** Closes a gateway's connection, e.g. after its secret was rotated or revoked. */
  disconnect(gatewayId: string): void;
  close(): Promise<void>;
}

/** Largest payload a gateway may publish; a telemetry batch of 5,000 points fits well inside. */
export const MAX_PUBLISH_BYTES = 512 * 1024;

const authError = (message: string, returnCode: number): AuthenticateError =>
  Object.assign(new Error(message), { returnCode }) as AuthenticateError;

export async function createEmbeddedBroker(deps: BrokerDeps): Promise<EmbeddedBroker> {
  const { log, metrics } = deps;
  const identities = new WeakMap<Client, GatewayIdentity>();
  // Sockets of mTLS listeners, whose certificate must name the gateway.
  const mtlsSockets = new WeakSet<tls.TLSSocket>();
  const buckets = new WeakMap<Client, { tokens: number; at: number }>();
  const rate = deps.rate ?? { perSecond: 1000, burst: 10_000 };
  /** Token bucket: false when the client has published faster than its rate allows. */
  const withinRate = (client: Client): boolean => {
    const now = Date.now();
    const b = buckets.get(client) ?? { tokens: rate.burst, at: now };
    b.tokens = Math.min(rate.burst, b.tokens + ((now - b.at) / 1000) * rate.perSecond);
    b.at = now;
    buckets.set(client, b);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  };

  const aedes = await Aedes.createBroker({
    connectTimeout: 10_000, // 10 s to send CONNECT after the socket opens
    maxClientsIdLength: 64,
    queueLimit: 1000, // offline messages queued per client before it connects
    // A gateway that stops reading its cmd topic must not stall delivery to everyone else.
    drainTimeout: 5_000, // 5 s
    concurrency: 1000, // messages in flight through the broker's emitter
    preConnect(_client, packet, done) {
      if (!acceptableClientId(packet.clientId)) {
        metrics.securityEvents.inc({ kind: 'bad_client_id' });
        return done(authError('client id refused', 2), false);
      }
      done(null, true);
    },
    authenticate(client, username, password, done) {
      const refuse = (why: string) => {
        metrics.securityEvents.inc({ kind: 'auth_failed' });
        log.warn({ clientId: client.id, reason: why }, 'security: MQTT connection refused');
        done(authError('bad username or password', 4), null);
      };
      // The client id is the gateway id, and so is the username: one identity, no takeover.
      if (!username || !password || username !== client.id) return refuse('anonymous or username != client id');
      // On an mTLS listener the certificate must name this gateway too.
      const sock = (client as unknown as { conn?: unknown }).conn;
      if (sock instanceof tls.TLSSocket && mtlsSockets.has(sock)) {
        const cn = sock.getPeerCertificate()?.subject?.CN;
        if (!sock.authorized || cn !== username) return refuse(`client certificate for ${String(cn)} does not match`);
      }
      deps
        .lookupGateway(username)
        .then(async (gw) => {
          if (!gw) return refuse('unknown gateway');
          if (!(await verifySecret(password.toString('utf8'), gw.secretHash))) return refuse('wrong secret');
          identities.set(client, { gatewayId: username, siteId: gw.siteId });
          done(null, true);
        })
        .catch((err: unknown) => {
          log.error({ err }, 'gateway lookup failed during authentication');
          done(authError('server unavailable', 3), null);
        });
    },
    authorizePublish(client, packet, done) {
      if (!client) return done(null); // the server's own publications
      const who = identities.get(client);
      let why = who ? mayPublish(who, packet.topic, packet.retain) : 'not authenticated';
      if (!why && packet.payload.length > MAX_PUBLISH_BYTES) why = `payload of ${packet.payload.length} bytes is over ${MAX_PUBLISH_BYTES}`;
      if (!why && !withinRate(client)) why = `publishing faster than ${rate.perSecond}/s`;
      if (why) {
        metrics.securityEvents.inc({
          kind: why.startsWith('payload') ? 'oversized' : why.startsWith('publishing') ? 'rate_limited' : 'forged_topic',
        });
        log.warn({ clientId: client.id, topic: packet.topic, reason: why }, 'security: publish refused');
        return done(new Error(why));
      }
      done(null);
    },
    authorizeSubscribe(client, sub, done) {
      const who = identities.get(client);
      const why = who ? maySubscribe(who, sub.topic) : 'not authenticated';
      if (why) {
        metrics.securityEvents.inc({ kind: 'forged_subscription' });
        log.warn({ clientId: client.id, topic: sub.topic, reason: why }, 'security: subscribe refused');
        // A negated subscription: SUBACK 0x80 for this topic, the connection stays up.
        return done(null, null);
      }
      done(null, sub);
    },
  });

  aedes.on('client', () => metrics.connectedGateways.inc());
  aedes.on('clientDisconnect', () => metrics.connectedGateways.dec());
  aedes.on('clientError', (client, err) => log.debug({ clientId: client?.id, err: err.message }, 'mqtt client error'));
  aedes.on('connectionError', (_client, err) => log.debug({ err: err.message }, 'mqtt connection error'));

  for (const filter of SERVER_SUBSCRIPTIONS) {
    await new Promise<void>((resolve) =>
      aedes.subscribe(
        filter,
        (packet, cb) => {
          // Ingest queues and commits on its own; the broker must not wait for the disk.
          void deps.onMessage(packet.topic, packet.payload as Buffer);
          cb();
        },
        resolve,
      ),
    );
  }

  const servers: net.Server[] = [];
  return {
    aedes,
    async listen(port, host = '0.0.0.0') {
      const server = net.createServer(aedes.handle);
      servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => resolve());
      });
      return (server.address() as net.AddressInfo).port;
    },
    disconnect(gatewayId) {
      const clients = (aedes as unknown as { clients: Record<string, Client | undefined> }).clients;
      clients[gatewayId]?.close();
    },
    async listenTls(port, host, opts) {
      const server = tls.createServer(
        { cert: opts.cert, key: opts.key, ...(opts.ca ? { ca: opts.ca, requestCert: true, rejectUnauthorized: true } : {}) },
        (socket) => {
          if (opts.ca) mtlsSockets.add(socket);
          aedes.handle(socket);
        },
      );
      server.on('tlsClientError', (err) => {
        metrics.securityEvents.inc({ kind: 'tls_refused' });
        log.warn({ err: err.message }, 'security: TLS handshake refused');
      });
      servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => resolve());
      });
      return (server.address() as net.AddressInfo).port;
    },
    publish(topic, payload) {
      aedes.publish({ cmd: 'publish', topic, payload: Buffer.from(payload), qos: 1, retain: false, dup: false }, (err) => {
        if (err) log.error({ err, topic }, 'downlink publish failed');
      });
    },
    async close() {
      for (const s of servers) s.close();
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
    },
  };
}

// The embedded Aedes broker: per-gateway authentication with the secret issued at registration,
// client id bound to the gateway id, default-deny topic ACLs, and a hook that hands every uplink
// message a gateway published here to ingest.
//
// Clustered (CARE_REDIS_URL): several instances run this broker over one Redis, with
// `mqemitter-redis` carrying messages between them and `aedes-persistence-redis` holding retained
// status, sessions and wills. A gateway may connect to any instance; the server's commands reach
// it wherever it is. Each instance ingests only what its own gateways published (taken in
// `authorizePublish`, which runs only where the message came in), so every message is ingested once.
import net from 'node:net';
import { Readable } from 'node:stream';
import tls from 'node:tls';
import { Aedes, type AuthenticateError, type Client } from 'aedes';
import AsyncRedisPersistence from 'aedes-persistence-redis/asyncPersistence.js';
import { Redis } from 'ioredis';
import mqemitterRedis from 'mqemitter-redis';
import type { Logger } from 'pino';
import type { Metrics } from '../metrics.ts';
import { createGatewaySecrets } from '../security/gateway-secrets.ts';
import { type ConnectionLimits, createConnectionGuard, DEFAULT_CONNECTION_LIMITS, type Slot } from './connection-guard.ts';
import { acceptableClientId, type GatewayIdentity, mayPublish, maySubscribe } from './policy.ts';
import { createGatewayRateLimit } from './rate-limit.ts';

export interface BrokerDeps {
  log: Logger;
  metrics: Metrics;
  lookupGateway: (id: string) => Promise<{ siteId: string; secretHash: string } | undefined>;
  onMessage: (topic: string, payload: Buffer) => Promise<void>;
  /** Per-gateway publish rate: a token bucket refilled at `perSecond`, holding up to `burst`. */
  rate?: { perSecond: number; burst: number };
  /** Packet sizes, log-in time and sockets waiting to log in (see connection-guard.ts). */
  connectionLimits?: ConnectionLimits;
  /** redis://host:6379: join the other instances' broker cluster through Redis. */
  redisUrl?: string;
  /** Clustered: how often this broker tells the others it is alive [60 s]. */
  heartbeatMs?: number;
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

/**
 * aedes-persistence-redis 12 answers retained messages, session queues and wills as async
 * iterables; Aedes 1.2 pipes the retained ones with `.pipe()`, so they are handed over as streams.
 */
class RedisPersistence extends AsyncRedisPersistence {
  override createRetainedStreamCombi(patterns: string[]) {
    return Readable.from(super.createRetainedStreamCombi(patterns));
  }
  override outgoingStream(client: unknown) {
    return Readable.from(super.outgoingStream(client));
  }
  override streamWill(brokers: unknown) {
    return Readable.from(super.streamWill(brokers));
  }
}

const authError = (message: string, returnCode: number): AuthenticateError =>
  Object.assign(new Error(message), { returnCode }) as AuthenticateError;

export async function createEmbeddedBroker(deps: BrokerDeps): Promise<EmbeddedBroker> {
  const { log, metrics } = deps;
  const identities = new WeakMap<Client, GatewayIdentity>();
  // Sockets of mTLS listeners, whose certificate must name the gateway.
  const mtlsSockets = new WeakSet<tls.TLSSocket>();
  const rate = deps.rate ?? { perSecond: 1000, burst: 10_000 };
  const rateLimit = createGatewayRateLimit(rate);
  const limits = deps.connectionLimits ?? DEFAULT_CONNECTION_LIMITS;
  const guard = createConnectionGuard(limits, { log, metrics });
  // A reconnecting gateway's secret, once proved, is checked without scrypt (busy threads, storms).
  const secrets = createGatewaySecrets();

  // Clustered: messages cross instances through Redis pub/sub; retained messages, sessions and
  // wills live in Redis. Alone: Aedes's in-memory emitter and persistence.
  let persistence: { destroy(): Promise<void> } | null = null;
  let mq: unknown;
  if (deps.redisUrl) {
    // Our own connections, so that Redis going away is logged, never an unhandled 'error' event
    // (which would end the process). They reconnect on their own.
    const conn = (role: string) => {
      const c = new Redis(deps.redisUrl as string, { maxRetriesPerRequest: null, retryStrategy: (n) => Math.min(200 * n, 5000) });
      c.on('error', (err: Error) => log.warn({ err: err.message, role }, 'broker cluster: Redis connection error'));
      // mqemitter-redis closes with quit() and drops the promise: with Redis gone (or the
      // connection between retries) it rejects "Connection is closed", an unhandled rejection that
      // ends the process. Handled here, and the connection is dropped instead.
      const quit = c.quit.bind(c);
      c.quit = ((...args: Parameters<typeof quit>) => {
        const p = quit(...args);
        p.catch(() => c.disconnect());
        return p;
      }) as typeof c.quit;
      return c;
    };
    const emitter = mqemitterRedis({ subConn: conn('emitter-sub'), pubConn: conn('emitter-pub'), concurrency: 1000 });
    // mqemitter-redis re-emits connection errors on `state`, where nobody else listens.
    (emitter as unknown as { state: NodeJS.EventEmitter }).state.on('error', () => undefined);
    mq = emitter;
    persistence = new RedisPersistence({ conn: conn('persistence') });
  }

  const aedes = await Aedes.createBroker({
    ...(deps.redisUrl ? { mq, persistence, heartbeatInterval: deps.heartbeatMs ?? 60_000 } : {}),
    // Time to send CONNECT after the socket opens; the guard also closes a socket not logged in by then.
    connectTimeout: limits.connectTimeoutMs,
    maxClientsIdLength: 64,
    queueLimit: 1000, // offline messages queued per client before it connects
    // QoS 2 publishes held per client until their PUBREL; one more closes the connection. Aedes's
    // 1,000 let one gateway pin 1,000 packets of up to CARE_MQTT_MAX_PACKET_BYTES (1 GB). Gateways publish QoS 1.
    maxInflightInbound: 32,
    // A gateway that stops reading its cmd topic must not stall delivery to everyone else.
    drainTimeout: 5_000, // 5 s
    concurrency: 1000, // messages in flight through the broker's emitter
    preConnect(_client, packet, done) {
      if (!acceptableClientId(packet.clientId)) {
        metrics.securityEvents.inc({ kind: 'bad_client_id' });
        return done(authError('client id refused', 2), false);
      }
      // No persistent sessions: Aedes would keep every QoS 1 command to such a client until it is
      // acknowledged, without limit (a gateway that never sends PUBACK grew it with each
      // confirmation). Gateways need none: unconfirmed events are resent (DESIGN.md section 7).
      if (!packet.clean) {
        metrics.securityEvents.inc({ kind: 'session_forced_clean' });
        packet.clean = true;
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
          if (!(await secrets.verify(password.toString('utf8'), gw.secretHash))) return refuse('wrong secret');
          identities.set(client, { gatewayId: username, siteId: gw.siteId });
          guard.authenticated((client as unknown as { conn?: unknown }).conn);
          done(null, true);
        })
        .catch((err: unknown) => {
          log.error({ err }, 'gateway lookup failed during authentication');
          done(authError('server unavailable', 3), null);
        });
    },
    authorizePublish(client, packet, done) {
      // A will kept in the cluster's persistence for a gateway of an instance that died: that
      // gateway has most likely reconnected elsewhere already, so its old will is not believed.
      // Let it pass on the broker, unseen by ingest; supervision reports a gateway that stays
      // silent (no status in three intervals), whichever instance it was on.
      const willOf = (packet as { brokerId?: string }).brokerId;
      if (!client || (willOf && willOf !== aedes.id)) return done(null);
      const who = identities.get(client);
      let why = who ? mayPublish(who, packet.topic, packet.retain) : 'not authenticated';
      // Larger packets never get here (the guard closes the connection at their header); kept so the rule reads whole.
      if (!why && packet.payload.length > limits.maxPacketBytes)
        why = `payload of ${packet.payload.length} bytes is over ${limits.maxPacketBytes}`;
      if (!why && who && !rateLimit.take(who.gatewayId)) why = `publishing faster than ${rate.perSecond}/s`;
      if (why) {
        metrics.securityEvents.inc({
          kind: why.startsWith('payload') ? 'oversized' : why.startsWith('publishing') ? 'rate_limited' : 'forged_topic',
        });
        log.warn({ clientId: client.id, topic: packet.topic, reason: why }, 'security: publish refused');
        return done(new Error(why));
      }
      done(null);
      // Ingest takes it here, where it came in: in a cluster no other instance sees this call, so
      // each message is ingested once; and alarms do not wait on the broker's own delivery (nor on
      // Redis). Ingest queues and commits on its own; the broker must not wait for the disk.
      void deps.onMessage(packet.topic, packet.payload as Buffer);
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

  // Persistence failures (Redis away, clustered) surface here; without a listener they would end the process.
  (aedes as unknown as NodeJS.EventEmitter).on('error', (err: Error) => log.error({ err: err.message }, 'broker error'));
  aedes.on('client', () => metrics.connectedGateways.inc());
  aedes.on('clientDisconnect', () => metrics.connectedGateways.dec());
  aedes.on('clientError', (client, err) => {
    if (err.message.startsWith('maxInflightInbound')) {
      metrics.securityEvents.inc({ kind: 'qos2_inflight' });
      log.warn({ clientId: client?.id }, 'security: too many QoS 2 publishes awaiting PUBREL, connection closed');
    } else log.debug({ clientId: client?.id, err: err.message }, 'mqtt client error');
  });
  aedes.on('connectionError', (_client, err) => log.debug({ err: err.message }, 'mqtt connection error'));

  const servers: net.Server[] = [];
  return {
    aedes,
    async listen(port, host = '0.0.0.0') {
      const server = net.createServer((socket) => {
        const slot = guard.admit(socket);
        if (!slot) return;
        aedes.handle(socket);
        guard.watch(socket, slot);
      });
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
      // A TLS socket's slot is taken when its TCP connection is accepted, so handshakes count as
      // waiting to log in; it is found again by the remote address and port when the handshake ends.
      const handshaking = new Map<string, Slot>();
      const endpoint = (s: net.Socket) => `${s.remoteAddress}|${s.remotePort}`;
      const server = tls.createServer(
        {
          cert: opts.cert,
          key: opts.key,
          handshakeTimeout: limits.connectTimeoutMs,
          ...(opts.ca ? { ca: opts.ca, requestCert: true, rejectUnauthorized: true } : {}),
        },
        (socket) => {
          const key = endpoint(socket);
          const slot = handshaking.get(key);
          handshaking.delete(key);
          if (!slot || slot.released) return socket.destroy();
          if (opts.ca) mtlsSockets.add(socket);
          aedes.handle(socket);
          guard.watch(socket, slot);
        },
      );
      server.on('connection', (raw: net.Socket) => {
        const slot = guard.admit(raw);
        if (!slot) return;
        const key = endpoint(raw);
        handshaking.set(key, slot);
        raw.once('close', () => {
          if (handshaking.get(key) === slot) handshaking.delete(key);
        });
      });
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
      await persistence?.destroy().catch((err: unknown) => log.warn({ err }, 'closing the broker persistence failed'));
    },
  };
}

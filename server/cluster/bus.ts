// The cross-instance bus: how several server instances tell each other what their own screens and
// caches must know. Alarm changes and device status go to every instance's caregiver screens;
// registry writes clear every instance's caches; a rotated secret closes the gateway's connection
// wherever it is; each instance says which caregivers have a screen open (for shift coverage).
//
// One bus per deployment, on the shared engine it already has, never on one process's memory:
// - `local`: one instance, nothing to tell;
// - `mqtt`: the external broker (CARE_MQTT_URL), on an internal topic only servers may use;
// - `redis`: Redis pub/sub (CARE_REDIS_URL), beside the clustered embedded broker;
// - `postgres`: LISTEN/NOTIFY on the shared state database (CARE_DATABASE_URL alone).
//
// An instance handles its own messages at once and ignores their echo, so its own screens never
// wait on the bus and keep working if the bus is down. When the bus was cut off, what crossed it
// meanwhile is lost: every instance then sends each of its screens a fresh snapshot (`onGap`).
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import type { Logger } from 'pino';
import type { Alarm } from '../../protocol/index.ts';
import type { DeviceStatusUpdate } from '../ingest/ingest.ts';

export type BusMessage =
  | { kind: 'alarm'; alarm: Alarm }
  /** An alarm too large for the transport (PostgreSQL NOTIFY holds 8,000 bytes): read it from the database. */
  | { kind: 'alarm_ref'; id: string }
  | { kind: 'status'; status: DeviceStatusUpdate }
  /** Sites, residents, devices, settings, policies or device tests changed: read them afresh. */
  | { kind: 'changed' }
  | { kind: 'disconnect'; gatewayId: string }
  /** The caregivers with a screen open on the sending instance; empty when it stops. */
  | { kind: 'presence'; users: string[] }
  /** The sender could not publish for a while: everyone resyncs their screens. */
  | { kind: 'resync' };

interface Envelope {
  v: 1;
  from: string;
  m: BusMessage;
}

export interface BusHandlers {
  log: Logger;
  /** A message from another instance. */
  onMessage(m: BusMessage, from: string): void;
  /** The bus was cut off and is back (or another instance says it was): resync every screen. */
  onGap(): void;
  /** Counts messages in and out. */
  count?(direction: 'in' | 'out'): void;
}

export interface Bus {
  readonly kind: 'local' | 'mqtt' | 'redis' | 'postgres';
  readonly instanceId: string;
  /** Sends to every other instance. The caller handles the message itself as well. */
  publish(m: BusMessage): void;
  /** Whether messages cross now (for /readyz: a screen here would miss other instances' alarms). */
  connected(): boolean;
  close(): Promise<void>;
}

export const newInstanceId = () => `srv-${randomBytes(6).toString('hex')}`;

/** Reads one envelope off a transport and hands it on, unless it is our own echo. */
export function receiver(instanceId: string, h: BusHandlers) {
  return (text: string) => {
    let env: Envelope;
    try {
      env = JSON.parse(text) as Envelope;
      if (env?.v !== 1 || typeof env.from !== 'string' || typeof env.m?.kind !== 'string') throw new Error('not a bus envelope');
    } catch (err) {
      h.log.warn({ err: (err as Error).message }, 'unreadable message on the cluster bus; ignored');
      return;
    }
    if (env.from === instanceId) return;
    h.count?.('in');
    if (env.m.kind === 'resync') return h.onGap();
    try {
      h.onMessage(env.m, env.from);
    } catch (err) {
      h.log.error({ err, kind: env.m.kind }, 'cluster bus message failed');
    }
  };
}

const envelope = (from: string, m: BusMessage) => JSON.stringify({ v: 1, from, m } satisfies Envelope);

export function localBus(instanceId: string): Bus {
  return { kind: 'local', instanceId, publish() {}, connected: () => true, async close() {} };
}

/** Over a publish function of the external MQTT broker; `receiver(...)` reads what comes back. */
export function mqttBus(instanceId: string, h: BusHandlers, publish: (text: string) => void, connected: () => boolean): Bus {
  return {
    kind: 'mqtt',
    instanceId,
    connected,
    publish(m) {
      h.count?.('out');
      publish(envelope(instanceId, m));
    },
    async close() {},
  };
}

export const REDIS_CHANNEL = 'care:v1:bus';

/**
 * Redis pub/sub: one connection publishes (so this instance's messages stay in order) and one
 * listens. A publish that fails while Redis is away is not queued for later (it would arrive
 * stale); once Redis is back, a `resync` tells every instance to send its screens a snapshot.
 */
export async function redisBus(url: string, instanceId: string, h: BusHandlers): Promise<Bus> {
  const retryStrategy = (times: number) => Math.min(200 * times, 5000);
  const pub = new Redis(url, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1, retryStrategy });
  const sub = new Redis(url, { lazyConnect: true, retryStrategy });
  for (const [name, conn] of [
    ['publisher', pub],
    ['listener', sub],
  ] as const) {
    conn.on('error', (err: Error) => h.log.warn({ err: err.message, conn: name }, 'cluster bus (Redis) error'));
  }
  try {
    await pub.connect();
    await sub.connect();
  } catch (err) {
    pub.disconnect();
    sub.disconnect();
    const where = new URL(url);
    throw new Error(`CARE_REDIS_URL: cannot reach Redis at ${where.hostname}:${where.port || 6379}: ${(err as Error).message}`);
  }
  const receive = receiver(instanceId, h);
  sub.on('message', (_channel: string, text: string) => receive(text));
  await sub.subscribe(REDIS_CHANNEL);
  let listenerCut = false;
  sub.on('close', () => {
    listenerCut = true;
  });
  // ioredis subscribes again on its own once it has reconnected.
  sub.on('ready', () => {
    if (!listenerCut) return;
    listenerCut = false;
    h.log.warn('cluster bus (Redis) back after a cut; resending snapshots to screens');
    h.onGap();
  });
  let unsent = false;
  pub.on('ready', () => {
    if (!unsent) return;
    unsent = false;
    pub.publish(REDIS_CHANNEL, envelope(instanceId, { kind: 'resync' })).catch(() => {
      unsent = true;
    });
  });
  let closed = false;
  return {
    kind: 'redis',
    instanceId,
    connected: () => pub.status === 'ready' && sub.status === 'ready',
    publish(m) {
      if (closed) return;
      h.count?.('out');
      pub.publish(REDIS_CHANNEL, envelope(instanceId, m)).catch((err: Error) => {
        unsent = true;
        h.log.warn({ err: err.message, kind: m.kind }, 'cluster bus (Redis) publish failed; screens elsewhere will resync');
      });
    },
    async close() {
      closed = true;
      pub.disconnect();
      sub.disconnect();
    },
  };
}

export const PG_CHANNEL = 'care_bus';
/** PostgreSQL refuses a NOTIFY payload of 8,000 bytes or more. */
const PG_MAX_PAYLOAD = 7900;

/**
 * PostgreSQL LISTEN/NOTIFY on a connection of its own. The same connection sends this instance's
 * notifications, so they arrive everywhere in the order they were sent. If it drops, it is opened
 * again with backoff; the gap is then announced so every screen resyncs.
 */
export async function postgresBus(url: string, instanceId: string, h: BusHandlers): Promise<Bus> {
  const receive = receiver(instanceId, h);
  let client: pg.Client | null = null;
  let closed = false;
  let unsent = false;
  let retryTimer: NodeJS.Timeout | null = null;

  async function open(attempt: number): Promise<void> {
    const c = new pg.Client({ connectionString: url, application_name: 'care-bus' });
    c.on('error', (err) => h.log.warn({ err: err.message }, 'cluster bus (PostgreSQL) error'));
    try {
      await c.connect();
      await c.query(`LISTEN ${PG_CHANNEL}`);
    } catch (err) {
      c.end().catch(() => undefined);
      if (attempt === 0) throw err;
      h.log.warn({ err: (err as Error).message }, 'cluster bus (PostgreSQL) not reachable; retrying');
      return scheduleReopen(attempt + 1);
    }
    c.on('notification', (n) => {
      if (n.channel === PG_CHANNEL && n.payload) receive(n.payload);
    });
    c.on('end', () => {
      if (client === c) client = null;
      if (closed) return;
      h.log.warn('cluster bus (PostgreSQL) connection lost; reopening');
      scheduleReopen(1);
    });
    client = c;
    if (attempt > 0) {
      // We may have missed notifications, and others may have missed ours.
      h.onGap();
      unsent = false;
      notify(envelope(instanceId, { kind: 'resync' }));
    }
  }
  function scheduleReopen(attempt: number) {
    if (closed || retryTimer) return;
    retryTimer = setTimeout(
      () => {
        retryTimer = null;
        void open(attempt);
      },
      Math.min(200 * attempt, 5000),
    );
  }
  // One query at a time on the connection, in the order sent (pg deprecates overlapping queries).
  let chain: Promise<unknown> = Promise.resolve();
  function notify(text: string) {
    const c = client;
    if (!c) {
      unsent = true;
      return;
    }
    chain = chain
      .then(() => c.query('SELECT pg_notify($1, $2)', [PG_CHANNEL, text]))
      .catch((err: Error) => {
        unsent = true;
        h.log.warn({ err: err.message }, 'cluster bus (PostgreSQL) notify failed; screens elsewhere will resync');
      });
  }
  await open(0);
  return {
    kind: 'postgres',
    instanceId,
    connected: () => client !== null,
    publish(m) {
      if (closed) return;
      h.count?.('out');
      let text = envelope(instanceId, m);
      if (Buffer.byteLength(text) > PG_MAX_PAYLOAD) {
        text = envelope(instanceId, m.kind === 'alarm' ? { kind: 'alarm_ref', id: m.alarm.id } : { kind: 'resync' });
      }
      if (unsent && client) {
        unsent = false;
        notify(envelope(instanceId, { kind: 'resync' }));
      }
      notify(text);
    },
    async close() {
      closed = true;
      if (retryTimer) clearTimeout(retryTimer);
      const c = client;
      client = null;
      await c?.end().catch(() => undefined);
    },
  };
}

// Issue 14: every queue and per-gateway structure a peer can grow is bounded (SECURITY.md,
// "Bounded structures"). Each test grows one structure from outside far past its cap.
import net from 'node:net';
import mqtt from 'mqtt';
import { generate } from 'mqtt-packet';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { Alarm } from '../../protocol/index.ts';
import { createVitalsTracker } from '../../server/alarms/vitals.ts';
import { createEmbeddedBroker } from '../../server/broker/broker.ts';
import { groupBySite } from '../../server/http/reports.ts';
import { createConfirmations } from '../../server/ingest/confirmations.ts';
import { createLookupCache } from '../../server/ingest/lookup-cache.ts';
import { createMetrics } from '../../server/metrics.ts';
import { GATEWAY_SECRET_COST, hashSecret } from '../../server/security/passwords.ts';
import type { Registry } from '../../server/storage/registry.ts';
import { createFeed, type FeedClient } from '../../server/ws/feed.ts';

const silent = pino({ level: 'silent' });

function screen(userId: string, bufferedAmount = 0) {
  const sent: string[] = [];
  const c: FeedClient & { sent: string[]; terminated: boolean } = {
    userId,
    sent,
    terminated: false,
    send: (d) => sent.push(d),
    bufferedAmount,
    terminate() {
      c.terminated = true;
    },
    canSee: () => true,
    scope: { all: true } as unknown as FeedClient['scope'],
    canSeeStatus: () => true,
  };
  return c;
}

describe('the live feed', () => {
  it("refuses a user's screen past the per-user cap, counted, and takes one again after a close", async () => {
    const refused: string[] = [];
    const feed = createFeed(silent, async () => [], { epoch: 1, maxScreensPerUser: 3, onRefused: (r) => refused.push(r) });
    const mine = Array.from({ length: 10 }, () => screen('u1'));
    const results = [];
    for (const c of mine) results.push(await feed.attach(c));
    expect(results).toEqual([true, true, true, false, false, false, false, false, false, false]);
    expect(feed.clientCount).toBe(3);
    expect(mine.filter((c) => c.terminated)).toHaveLength(7);
    expect(refused).toEqual(Array(7).fill('per_user'));
    // Another user is not held to u1's cap.
    expect(await feed.attach(screen('u2'))).toBe(true);
    // A refused screen's close does not free a place; a real one's does.
    feed.detach(mine[5] as FeedClient);
    expect(await feed.attach(screen('u1'))).toBe(false);
    feed.detach(mine[0] as FeedClient);
    expect(await feed.attach(screen('u1'))).toBe(true);
  });

  it('refuses any screen past the total cap', async () => {
    const refused: string[] = [];
    const feed = createFeed(silent, async () => [], { epoch: 1, maxScreens: 5, onRefused: (r) => refused.push(r) });
    for (let i = 0; i < 8; i += 1) await feed.attach(screen(`user-${i}`));
    expect(feed.clientCount).toBe(5);
    expect(refused).toEqual(['total', 'total', 'total']);
  });

  it('keeps a bounded history for since= and cuts off a screen that does not read', async () => {
    const feed = createFeed(silent, async () => [], { epoch: 1, maxHistory: 100, maxBufferedBytes: 1000 });
    const slow = screen('u1', 5000);
    await feed.attach(slow);
    expect(slow.terminated).toBe(true);
    expect(feed.clientCount).toBe(0);
    const first = feed.seq;
    for (let i = 0; i < 10_000; i += 1)
      feed.publishDeviceStatus({ gatewayId: 'g', deviceId: `d${i}`, state: 'online', lastSeen: null, battery: null });
    // Catching up from the start is no longer possible: a snapshot instead of 10,000 messages.
    const late = screen('u2');
    await feed.attach(late, first);
    expect(late.sent).toHaveLength(1);
    expect(JSON.parse(late.sent[0] as string).type).toBe('snapshot');
    // From within the history: at most the history (110 = maxHistory plus the trim step).
    const recent = screen('u3');
    await feed.attach(recent, feed.seq - 50);
    expect(recent.sent).toHaveLength(50);
  });
});

describe('ingest lookups', () => {
  it('a flood of made-up device ids keeps the cache at its cap', async () => {
    let reads = 0;
    const registry = {
      getDevice: async () => {
        reads += 1;
        return undefined;
      },
    } as unknown as Registry;
    const cache = createLookupCache(registry, 60_000, 1000);
    for (let i = 0; i < 20_000; i += 1) await cache.getDevice(`random-${i}`);
    expect(reads).toBe(20_000);
    // Bounded: the entries held never pass the cap (probe by counting re-reads of the newest).
    const before = reads;
    for (let i = 19_500; i < 20_000; i += 1) await cache.getDevice(`random-${i}`);
    expect(reads - before).toBeLessThan(500); // the newest are still answered from memory
    expect(cache.size()).toBeLessThanOrEqual(1000);
  });
});

describe('vital breaches', () => {
  it('breach start times stay under the cap however many residents and metrics are reported', () => {
    const tracker = createVitalsTracker(100);
    const limit = { min: 90, sustainSeconds: 60 };
    for (let i = 0; i < 10_000; i += 1) tracker.observe(`r${i}`, { metric: 'spo2', value: 80, tsMs: 0, limit });
    expect(tracker.size()).toBeLessThanOrEqual(100);
  });
});

describe('event confirmations', () => {
  it('a gateway sending thousands of events holds at most one message of ids', () => {
    const published: Array<{ topic: string; ids: string[] }> = [];
    const c = createConfirmations((topic, payload) => published.push({ topic, ids: JSON.parse(payload).ids }), {
      maxIds: 500,
      delayMs: 60_000,
    });
    for (let i = 0; i < 10_001; i += 1) c.confirm('s1', 'g1', `e${i}`);
    expect(published).toHaveLength(20);
    expect(published.every((p) => p.ids.length === 500)).toBe(true);
    c.flush();
    expect(published).toHaveLength(21);
    expect(published[20]?.ids).toEqual(['e10000']);
  });
});

async function startBroker() {
  const metrics = createMetrics();
  const secretHash = await hashSecret('s3cret', GATEWAY_SECRET_COST);
  const broker = await createEmbeddedBroker({
    log: silent,
    metrics,
    lookupGateway: async (id) => (id === 'g1' ? { siteId: 's1', secretHash } : undefined),
    onMessage: async () => {},
  });
  return { broker, metrics, port: await broker.listen(0, '127.0.0.1') };
}

describe('the embedded broker', () => {
  it('holds at most 32 QoS 2 publishes awaiting PUBREL from one gateway: one more closes it', async () => {
    const { broker, metrics, port } = await startBroker();
    const sock = net.connect(port, '127.0.0.1');
    let closed = false;
    sock.on('close', () => {
      closed = true;
    });
    sock.on('error', () => {});
    sock.on('data', () => {}); // CONNACK, PUBRECs: never answered with PUBREL
    try {
      await new Promise((r) => sock.once('connect', r));
      sock.write(
        generate({
          cmd: 'connect',
          protocolId: 'MQTT',
          protocolVersion: 4,
          clean: true,
          clientId: 'g1',
          keepalive: 60,
          username: 'g1',
          password: Buffer.from('s3cret'),
        }),
      );
      await expect.poll(() => sock.bytesRead >= 4, { timeout: 10_000 }).toBe(true); // CONNACK
      const payload = Buffer.alloc(1000, 'x');
      const publish = (id: number) =>
        sock.write(
          generate({ cmd: 'publish', topic: 'care/v1/s1/g1/telemetry', payload, qos: 2, messageId: id, retain: false, dup: false }),
        );
      for (let id = 1; id <= 32; id += 1) publish(id);
      // 32 PUBRECs (4 bytes each) after the CONNACK: all held, the connection stays.
      await expect.poll(() => sock.bytesRead, { timeout: 10_000 }).toBe(4 + 32 * 4);
      expect(closed).toBe(false);
      publish(33);
      await expect.poll(() => closed, { timeout: 10_000 }).toBe(true);
      const counted = (await metrics.securityEvents.get()).values.find((v) => v.labels.kind === 'qos2_inflight');
      expect(counted?.value).toBe(1);
    } finally {
      sock.destroy();
      await broker.close();
    }
  });

  it('keeps no persistent session: nothing is queued for a gateway that asked for one while it is away', async () => {
    const { broker, metrics, port } = await startBroker();
    const cmd = 'care/v1/s1/g1/cmd';
    const opts = { clientId: 'g1', username: 'g1', password: 's3cret', clean: false, reconnectPeriod: 0, connectTimeout: 10_000 };
    try {
      const first = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, opts);
      await first.subscribeAsync(cmd, { qos: 1 });
      await first.endAsync();
      // While it is away, commands for it (confirmations, acknowledgements) are published.
      for (let i = 0; i < 100; i += 1) broker.publish(cmd, JSON.stringify({ v: 1, type: 'committed', ids: [`e${i}`] }));
      const received: string[] = [];
      const again = mqtt.connect(`mqtt://127.0.0.1:${port}`, opts);
      again.on('message', (_t, p) => received.push(String(p)));
      const connack = await new Promise<{ sessionPresent: boolean }>((resolve, reject) => {
        again.once('connect', resolve);
        again.once('error', reject);
      });
      expect(connack.sessionPresent).toBe(false);
      // A round trip on a fresh subscription: anything queued would have arrived before it.
      await again.subscribeAsync(cmd, { qos: 1 });
      broker.publish(cmd, 'marker');
      await expect.poll(() => received.includes('marker'), { timeout: 10_000 }).toBe(true);
      expect(received).toEqual(['marker']);
      await again.endAsync();
      const forced = (await metrics.securityEvents.get()).values.find((v) => v.labels.kind === 'session_forced_clean');
      expect(forced?.value).toBe(2);
    } finally {
      await broker.close();
    }
  });
});

describe('the response report', () => {
  it('groups the 200,000 alarms a report may read by site in linear time', () => {
    const alarms = Array.from({ length: 200_000 }, (_, i) => ({ id: `a${i}`, siteId: i % 10 === 0 ? 'b' : 'a' }) as Alarm);
    const started = performance.now();
    const bySite = groupBySite(alarms);
    // Copying each site's list per alarm took minutes here; linear, it takes milliseconds.
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(bySite.get('a')).toHaveLength(180_000);
    expect(bySite.get('b')?.[1]?.id).toBe('a10');
  });
});

// Two server instances, each with its own Aedes on its own port, state shared in a real PostgreSQL,
// in the two layouts that keep the embedded broker:
// - clustered (CARE_REDIS_URL): the brokers joined through a real Redis from Debian's
//   `redis-server` (mqemitter-redis carries MQTT messages between them, aedes-persistence-redis
//   holds retained messages and wills, Redis pub/sub carries alarm changes to every screen);
// - a broker each (PostgreSQL alone): alarm changes cross by LISTEN/NOTIFY, and each instance
//   tells the gateways connected to it.
// Instance A runs as a child process so it can be killed with SIGKILL; B runs in the test process.
import { Redis } from 'ioredis';
import mqtt from 'mqtt';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningGateway, startGateway } from '../../gateway/gateway.ts';
import { type Alarm, gatewayTopic, type WsMessage } from '../../protocol/index.ts';
import {
  ADMIN_PASSWORD,
  type DemoSite,
  gatewayConfigFor,
  quietLogger,
  registerSite,
  Screen,
  startTestServer,
  type TestServer,
  tempDir,
  waitFor,
} from '../helpers/harness.ts';
import { type Postgres, postgresBin, startPostgres } from '../helpers/postgres.ts';
import { freePort, type Proc, startProcess } from '../helpers/processes.ts';
import { type RedisServer, redisAvailable, startRedis } from '../helpers/redis.ts';
import { requireComponent } from '../helpers/require-component.ts';

const available = requireComponent('redis-server', redisAvailable()) && requireComponent('postgresql', postgresBin() !== null);

const layouts = [
  { name: 'clustered embedded broker (Redis + PostgreSQL, two instances)', withRedis: true },
  { name: 'a broker each (PostgreSQL LISTEN/NOTIFY, two instances)', withRedis: false },
];

for (const { name, withRedis } of layouts)
  describe.skipIf(!available)(name, () => {
    let redis: RedisServer | null = null;
    let pgServer: Postgres;
    let a: Proc;
    let aHttp: number;
    let aMqtt: number;
    let b: TestServer;
    let siteRaw: DemoSite;
    let siteGw: DemoSite;
    let gateway: RunningGateway | null = null;
    let seq = 0;

    const event = (device: string, type: string) => {
      seq += 1;
      return { v: 1, id: `evt-${seq}-${Math.random().toString(36).slice(2)}`, seq, ts: new Date().toISOString(), device, type };
    };
    async function eventsStored(device: string): Promise<{ rows: number; ids: number }> {
      const c = new pg.Client({ connectionString: pgServer.url });
      await c.connect();
      try {
        const r = await c.query('SELECT count(*) AS rows, count(DISTINCT id) AS ids FROM events WHERE device_id = $1', [device]);
        return { rows: Number(r.rows[0].rows), ids: Number(r.rows[0].ids) };
      } finally {
        await c.end();
      }
    }
    async function storedOn(httpPort: number): Promise<number> {
      const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
      return Number(/care_ingest_events_total\{outcome="stored"\} (\d+)/.exec(text)?.[1] ?? 0);
    }

    beforeAll(async () => {
      redis = withRedis ? await startRedis() : null;
      pgServer = await startPostgres();
      // A two-second broker heartbeat: B takes a killed A for dead after 6 s and handles the wills A
      // held every 8 s, after its gateway has reconnected to B (2 s).
      const env: Record<string, string> = { CARE_DATABASE_URL: pgServer.url };
      if (redis) Object.assign(env, { CARE_REDIS_URL: redis.url, CARE_BROKER_HEARTBEAT_SECONDS: '2' });
      b = await startTestServer(undefined, { env });
      siteRaw = await registerSite(b, [
        { id: 'btn-r1', kind: 'call_button' },
        { id: 'radar-r1', kind: 'fall_detector' },
      ]);
      siteGw = await registerSite(b, [{ id: 'btn-g1', kind: 'call_button' }]);
      aHttp = await freePort();
      aMqtt = await freePort();
      a = startProcess('server/main.ts', {
        ...env,
        CARE_DATA_DIR: tempDir(),
        CARE_HTTP_PORT: String(aHttp),
        CARE_MQTT_PORT: String(aMqtt),
        CARE_BIND_HOST: '127.0.0.1',
        CARE_ADMIN_PASSWORD: ADMIN_PASSWORD,
      });
      await waitFor(() => a.lines.some((l) => l.msg === 'server started'), 'instance A up', 90_000); // a child server takes 20 s+ to start on a loaded 2-core machine
    }, 120_000);
    afterAll(async () => {
      await gateway?.stop();
      await a?.stop();
      await b?.stop();
      await redis?.stop();
      pgServer?.stop();
    });

    it('a gateway on instance A and a screen on instance B see the same alarm; commands reach the gateway from either', async () => {
      const screenB = await Screen.open(b);
      const gw = await mqtt.connectAsync(`mqtt://127.0.0.1:${aMqtt}`, {
        clientId: siteRaw.gatewayId,
        username: siteRaw.gatewayId,
        password: siteRaw.secret,
        reconnectPeriod: 0,
      });
      const cmds: Array<{ type: string; ids?: string[]; alarmId?: string; state?: string }> = [];
      gw.on('message', (_t, p) => cmds.push(JSON.parse(String(p))));
      await gw.subscribeAsync(gatewayTopic(siteRaw.siteId, siteRaw.gatewayId, 'cmd'), { qos: 1 });
      await gw.publishAsync(
        gatewayTopic(siteRaw.siteId, siteRaw.gatewayId, 'status'),
        JSON.stringify({ v: 1, state: 'online', ts: new Date().toISOString(), devices: [] }),
        { qos: 1, retain: true },
      );
      const call = event('btn-r1', 'call');
      await gw.publishAsync(gatewayTopic(siteRaw.siteId, siteRaw.gatewayId, 'events'), JSON.stringify(call), { qos: 1 });

      // Raised on A (where the gateway is), shown on B's screen through Redis.
      const raised = await screenB.waitForAlarm((x) => x.type === 'call' && x.deviceId === 'btn-r1', 'call alarm on B');
      expect(raised).toMatchObject({ priority: 'high', state: 'active', gatewayId: siteRaw.gatewayId, residentName: '王秀英' });
      await waitFor(
        () => screenB.messages.some((m: WsMessage) => m.type === 'device_status' && m.gatewayId === siteRaw.gatewayId),
        'gateway status on B',
      );
      // A confirmed the commit to the gateway connected to it.
      await waitFor(() => cmds.some((c) => c.type === 'committed' && c.ids?.includes(call.id)), 'commit confirmation');

      // Acknowledged on B: B's broker publishes the command, Redis carries it to the gateway on A.
      const ack = await b.api<Alarm>('POST', `/api/v1/alarms/${raised.id}/ack`);
      expect(ack.status).toBe(200);
      await waitFor(() => cmds.some((c) => c.type === 'alarm_ack' && c.alarmId === raised.id), 'alarm_ack at the gateway on A');
      expect(cmds.filter((c) => c.type === 'alarm_ack' && c.alarmId === raised.id)).toHaveLength(1);
      await screenB.waitForAlarm((x) => x.id === raised.id && x.state === 'acknowledged');

      // Every message is ingested once, by the instance it came in on.
      const before = await storedOn(aHttp);
      for (let i = 0; i < 50; i += 1) {
        await gw.publishAsync(gatewayTopic(siteRaw.siteId, siteRaw.gatewayId, 'events'), JSON.stringify(event('radar-r1', 'fall')), {
          qos: 1,
        });
      }
      const fall = await screenB.waitForAlarm((x) => x.type === 'fall' && x.count === 50, 'one fall alarm counting 50 events');
      expect(fall.count).toBe(50);
      expect(await eventsStored('radar-r1')).toEqual({ rows: 50, ids: 50 });
      expect((await storedOn(aHttp)) - before).toBe(50);
      expect(await storedOn(b.httpPort)).toBe(0);

      // The secret rotated through B: the gateway's open connection on A is closed, and the old
      // secret no longer gets in anywhere.
      const closed = new Promise<void>((resolve) => gw.once('close', () => resolve()));
      const rotated = await b.api<{ secret: string }>('POST', `/api/v1/gateways/${siteRaw.gatewayId}/secret`);
      expect(rotated.status).toBe(200);
      await closed;
      const retry = await mqtt
        .connectAsync(`mqtt://127.0.0.1:${aMqtt}`, {
          clientId: siteRaw.gatewayId,
          username: siteRaw.gatewayId,
          password: siteRaw.secret,
          reconnectPeriod: 0,
        })
        .then(async (c) => {
          await c.endAsync();
          return 'connected';
        })
        .catch(() => 'refused');
      expect(retry).toBe('refused');
      gw.end(true);
      screenB.close();
    });

    it('instance A killed mid-stream: its gateway reconnects to B and no event is lost or stored twice', { timeout: 90_000 }, async () => {
      const outbox = tempDir('care-outbox-');
      const config = gatewayConfigFor({ mqttUrl: `mqtt://127.0.0.1:${aMqtt},${b.mqttUrl}` } as TestServer, siteGw, {}, outbox);
      gateway = await startGateway(config, { logger: quietLogger() });
      const g = gateway;
      await waitFor(() => g.uplinkConnected(), 'gateway connected to A');
      const screenB = await Screen.open(b);
      for (let i = 0; i < 30; i += 1) g.sink.event({ device: 'btn-g1', type: 'call' });
      await screenB.waitForAlarm((x) => x.deviceId === 'btn-g1', 'call alarm from the gateway on A, on B');
      // The gateway's will as A keeps it in Redis (aedes-persistence-redis: list `will`, entries
      // `will:<brokerId>:<clientId>`); on B there is no gateway yet, so it is the only one.
      const willsOf = async (clientId: string) => {
        if (!redis) return [];
        const r = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
        try {
          await r.connect();
          return (await r.lrange('will', 0, -1)).filter((k) => k.endsWith(`:${encodeURIComponent(clientId)}`));
        } finally {
          await r.quit().catch(() => r.disconnect());
        }
      };
      const willOnA = withRedis
        ? await waitFor(async () => {
            const w = await willsOf(siteGw.gatewayId);
            return w.length === 1 ? w[0] : undefined;
          }, "A's will for the gateway in Redis")
        : '';
      await a.kill9();
      for (let i = 0; i < 30; i += 1) g.sink.event({ device: 'btn-g1', type: 'call' });
      // Whatever A received but never committed stays unconfirmed; the gateway resends it to B.
      await waitFor(() => g.outboxDepth().events === 0 && g.uplinkConnected(), 'every event confirmed through B', 60_000);
      const call = await screenB.waitForAlarm((x) => x.deviceId === 'btn-g1' && x.count === 60, 'the call alarm counting all 60');
      expect(call.count).toBe(60);
      expect(await eventsStored('btn-g1')).toEqual({ rows: 60, ids: 60 });
      // B takes A for dead after three missed heartbeats and publishes the wills A held, the
      // gateway's "offline" among them. The gateway is on B by then: that old will is not believed.
      if (!withRedis) return screenB.close(); // a broker each: nothing holds A's wills
      // Wait for that event itself (three missed 2 s heartbeats, then B's next will sweep): A's
      // will leaves Redis only after B has published it.
      await waitFor(async () => !(await willsOf(siteGw.gatewayId)).includes(willOnA), "B published and removed A's will", 60_000);
      const offline = (await b.api<{ alarms: Alarm[] }>('GET', '/api/v1/alarms')).body.alarms.filter(
        (x) => x.type === 'gateway_offline' && x.gatewayId === siteGw.gatewayId,
      );
      expect(offline).toEqual([]);
      screenB.close();
    });

    // Only the clustered layout has Redis to lose.
    if (withRedis)
      it("Redis killed: alarms from a gateway on B still reach B's screens; once it is back, B is ready again and screens resync", {
        timeout: 60_000,
      }, async () => {
        const g = gateway as RunningGateway;
        const screenB = await Screen.open(b);
        const ready = async () => (await fetch(`${b.url}/readyz`)).status;
        expect(await ready()).toBe(200);
        await redis?.kill();
        await waitFor(async () => (await ready()) === 503, 'B not ready without the bus');
        // Ingest takes the event where it came in, before the broker hands it to Redis.
        g.sink.event({ device: 'btn-g1', type: 'call' });
        await screenB.waitForAlarm((x) => x.deviceId === 'btn-g1' && x.count === 61, 'the call counted on B with Redis down');
        const snapshots = () => screenB.messages.filter((m) => m.type === 'snapshot').length;
        expect(snapshots()).toBe(1);
        await redis?.start();
        await waitFor(async () => (await ready()) === 200, 'B ready again', 30_000);
        // What crossed the bus meanwhile is lost to the other instances: every screen gets a snapshot.
        await waitFor(() => snapshots() >= 2, 'screen resynced after the gap', 20_000);
        await waitFor(() => g.outboxDepth().events === 0, 'the event confirmed once Redis is back', 30_000);
        expect(await eventsStored('btn-g1')).toEqual({ rows: 61, ids: 61 });
        screenB.close();
      });
  });

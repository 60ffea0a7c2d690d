// The server's composition root: builds the parts (storage, alarm work, telemetry lane, HTTP API,
// live feed, ingest, brokers, cluster bus, lanes, watch listener), wires them, and starts them in the
// order listed at the end of `startServer`; they stop in reverse (parts/part.ts). `main.ts` adds the
// CLI around it; tests call `startServer` directly with port 0.
import pino, { type Logger } from 'pino';
import { type Clock, type IdSource, systemClock, ulidSource } from '../protocol/index.ts';
import { loadPolicies } from './alarms/policies.ts';
import { createSender } from './alarms/sender.ts';
import { createChannels } from './channels/index.ts';
import { newInstanceId } from './cluster/bus.ts';
import type { ServerConfig } from './config.ts';
import { createHealthMonitor } from './health.ts';
import { createAlarmPageCache } from './http/alarm-page-cache.ts';
import { buildHttpApp } from './http/app.ts';
import type { KeptSession } from './http/auth.ts';
import { createSessionCache } from './http/session-cache.ts';
import { createConfirmations } from './ingest/confirmations.ts';
import { createIngest } from './ingest/ingest.ts';
import { createLookupCache } from './ingest/lookup-cache.ts';
import { createTelemetryLane, type TelemetryLane } from './ingest/telemetry-lane.ts';
import { createJt808Listener } from './jt808/listener.ts';
import { createJt808Metrics } from './jt808/metrics.ts';
import { createMetrics } from './metrics.ts';
import { createAlarmDisplay } from './parts/alarm-display.ts';
import { createAlarmWork } from './parts/alarm-work.ts';
import { createBrokers } from './parts/brokers.ts';
import { createCluster } from './parts/cluster.ts';
import { createGatewayLink } from './parts/gateway-link.ts';
import { createLanes } from './parts/lanes.ts';
import { startParts } from './parts/part.ts';
import { createServerStatus } from './parts/server-status.ts';
import { ensureAdmin, openStorage } from './parts/storage.ts';
import { createResponseTokens } from './respond/tokens.ts';
import { siteForView } from './respond/view.ts';
import { appendAudit } from './storage/alarms.ts';
import { nextCounter } from './storage/counters.ts';
import { createWriteProbe } from './storage/health.ts';
import { telemetryBackend } from './storage/telemetry-factory.ts';
import { createWatchListener } from './watch/listener.ts';
import { createWatchMetrics } from './watch/metrics.ts';
import { createFeed } from './ws/feed.ts';
import { createStatusCoalescer } from './ws/status-coalescer.ts';

/** Open alarms in a screen's snapshot besides every active high-priority one in its scope. */
const SNAPSHOT_MAX_ALARMS = 2000;

export interface RunningServer {
  httpPort: number;
  mqttPort: number;
  mqttsPort: number | null;
  /** The GPS watch listener's TCP port (server/watch); null when CARE_WATCH_PORT=off. */
  watchPort: number | null;
  /** The JT/T 808 listener's TCP port (server/jt808); null when CARE_JT808_PORT=off (the default). */
  jt808Port: number | null;
  /** Set when this start created the admin user with a generated password. */
  generatedAdminPassword: string | null;
  /** Every HTTP route (method and URL pattern): the authorisation matrix test checks each is listed. */
  httpRoutes(): Array<{ method: string; url: string }>;
  /** Runs the periodic alarm work now (tests with a fake clock). */
  tick(): Promise<void>;
  /** The telemetry lane's counters, and a way for tests to crash its worker. */
  telemetry: Pick<TelemetryLane, 'stats' | 'crashWorkerForTest'>;
  stop(): Promise<void>;
}

export interface ServerDeps {
  logger?: Logger;
  clock?: Clock;
  ids?: IdSource;
}

export async function startServer(config: ServerConfig, deps: ServerDeps = {}): Promise<RunningServer> {
  const log = deps.logger ?? pino({ level: config.logLevel });
  const clock = deps.clock ?? systemClock;
  const ids = deps.ids ?? ulidSource();
  const now = () => clock.iso();
  const metrics = createMetrics();
  const instanceId = newInstanceId();

  const storage = await openStorage(config, log);
  const { db, registry, users, alarms } = storage;
  const generatedAdminPassword = await ensureAdmin({ users, adminPassword: config.adminPassword, ids, now, log });
  const lookups = createLookupCache(registry);
  const policies = await loadPolicies(db);

  // Screens and gateways: the live feed, the kept alarm pages, and commands through whichever broker.
  const feed = createFeed(
    log.child({ part: 'ws' }),
    async (scope) => (await alarms.listForScope(scope, { open: true, limit: SNAPSHOT_MAX_ALARMS })).alarms,
    {
      epoch: await nextCounter(db, 'feed_epoch'),
      onRefused: (reason) => metrics.securityEvents.inc({ kind: reason === 'per_user' ? 'ws_screens_per_user' : 'ws_screens_total' }),
    },
  );
  /** `GET /api/v1/alarms` answers, dropped on every alarm change seen here (ours or the bus's). */
  const alarmPages = createAlarmPageCache();
  const gateways = createGatewayLink({ shared: Boolean(config.mqttUrl || config.redisUrl) });
  const display = createAlarmDisplay({ feed, alarmPages, gateways, metrics, clock });
  const cluster = createCluster({ config, instanceId, log, metrics, clock, feed, alarms, gateways, showAlarm: display.show });

  // People reached outside: every attempt through one bounded sender; nothing that escalates waits
  // for it. Every message carries a response link (server/respond/); without CARE_PUBLIC_URL they
  // point at this server's own address, known once it listens.
  const sender = createSender(log.child({ part: 'sender' }));
  let ownUrl = '';
  const responseTokens = createResponseTokens(db, { publicUrl: () => config.publicUrl ?? ownUrl, now });
  const channels = createChannels({
    db,
    ids,
    now,
    log: log.child({ part: 'channels' }),
    config: config.channels,
    dataDir: config.dataDir,
    links: responseTokens,
  });
  const alarmWork = createAlarmWork({
    config,
    db,
    alarms,
    ids,
    now,
    log,
    metrics,
    lookups,
    policies,
    sender,
    channels,
    onChange: (changed) => {
      for (const a of changed) cluster.publish({ kind: 'alarm', alarm: a });
      display.changedHere(changed);
    },
    screensOpen: () => cluster.screensOpen(),
  });
  const { engine, supervision, deviceTests, shifts, taskFaults } = alarmWork;
  feed.serveFirst((alarm) => shifts.onDutyFor(alarm));

  // Telemetry is decoded, stored and pruned in its own worker thread; only what the alarm engine
  // needs comes back (telemetry-lane.ts). Chart queries read the store from this thread.
  const telemetryLog = log.child({ part: 'telemetry' });
  const telemetry = createTelemetryLane({
    config,
    queryBackend: await telemetryBackend(config, { db, engine: storage.engine, log: telemetryLog }),
    log: telemetryLog,
    onFindings: (f) => void alarmWork.telemetryAlarms.apply(f),
    onStoreError: () => metrics.storeErrors.inc({ store: 'telemetry' }),
    onShed: (n, reason) => metrics.rejected.inc({ kind: 'telemetry', reason: `shed_${reason}` }, n),
  });
  const lanes = createLanes({
    ...alarmWork,
    clock,
    ids,
    log,
    metrics,
    telemetryRetentionDays: config.telemetryRetentionDays,
    telemetry,
    responseTokens,
    policies,
    alarms,
    channels,
    publishPresence: () => cluster.publish({ kind: 'presence', users: [...feed.connectedUsers()] }),
  });
  const healthMonitor = createHealthMonitor({
    clock,
    log: log.child({ part: 'health' }),
    probe: createWriteProbe(db, storage.engine, instanceId).probe,
    lastEscalationSweep: lanes.lastEscalationSweep,
  });

  // Ingest: what gateways (and watches) publish, committed with the alarms it raises, then confirmed.
  // A status that only refreshes last-seen reaches the screens (and the other instances) at most
  // every 30 s per device; changes go at once (ws/status-coalescer.ts).
  const deviceStatus = createStatusCoalescer({
    now: () => clock.now(),
    publish: (u) => {
      cluster.publish({ kind: 'status', status: u });
      feed.publishDeviceStatus(u);
    },
  });
  const confirmations = createConfirmations((topic, payload) => gateways.publish(topic, payload));
  const ingest = createIngest({
    db,
    durable: storage.durable,
    registry,
    engine,
    telemetry,
    confirmations,
    metrics,
    log: log.child({ part: 'ingest' }),
    now,
    onDeviceStatus: (u) => deviceStatus.push(u),
    supervision,
    lookups,
    deviceTests,
    alarms,
    unregisteredBudget: config.unregisteredAlarmBudget,
    onCommit: (ok) => healthMonitor.commit(ok),
    onActivity: (seen) => alarmWork.observeActivity(seen),
  });
  const brokers = createBrokers({
    config,
    log,
    metrics,
    registry,
    gateways,
    cluster,
    onMessage: (topic, payload) => ingest.onMessage(topic, payload),
    forgetGateway: (id) => ingest.forgetGateway(id),
  });
  const status = createServerStatus({
    monitor: healthMonitor,
    ingest,
    telemetry,
    channels,
    taskFaults,
    cluster,
    metrics,
    db,
    now: () => clock.now(),
  });
  /** Another instance wrote: what is cached here is read afresh. */
  async function refreshCaches() {
    lookups.clear();
    telemetry.forgetDevices();
    await policies.reload();
    await deviceTests.refresh();
  }

  const app = await buildHttpApp(
    {
      db,
      registry,
      users,
      alarms,
      engine,
      telemetry,
      feed,
      policies,
      shifts,
      deviceTests,
      notifier: alarmWork.notifier,
      metrics,
      ids,
      log,
      now,
      tokenTtlMs: config.tokenTtlMs,
      dashboardDir: config.dashboardDir,
      alarmPages,
      // Sessions are kept only where no other instance can end one (session-cache.ts).
      sessionCache: cluster.kind === 'local' ? createSessionCache<KeptSession>({ now: () => clock.now() }) : undefined,
      health: status.health,
      refreshMetrics: status.refreshMetrics,
      readiness: status.readiness,
      gatewayCredentials: brokers.gatewayCredentials,
      brokerHooks: config.brokerHookSecret
        ? {
            secret: config.brokerHookSecret,
            serverUser: brokerLogin(config.mqttUrl),
          }
        : null,
      onRegistryChanged: () => {
        lookups.clear();
        telemetry.forgetDevices();
        cluster.publish({ kind: 'changed' });
      },
      loginRateLimit: config.loginRateLimit,
      loginLimits: {
        perAccount: config.loginRateLimit,
        perAddress: config.loginAddressLimit,
        hashConcurrency: config.loginHashConcurrency,
        hashQueue: config.loginHashQueue,
      },
      allowedOrigins: config.allowedOrigins,
      exposure: config.exposure,
      mapTileUrl: config.mapTileUrl,
      push: channels.routes,
      respond: {
        tokens: responseTokens,
        getAlarm: (id) => alarms.get(id),
        engine,
        chain: alarmWork.responseChain,
        siteOf: (id) => siteForView(db, id),
        audit: (e) => appendAudit(db, e),
        now,
      },
    },
    log,
    config.tls,
  );
  let httpPort = 0;
  // GPS watches reach the server directly; their alarms go through the same ingest as a gateway's.
  const wearables = {
    lookups,
    getGateway: (id: string) => registry.getGateway(id),
    ingest: (topic: string, payload: Buffer) => ingest.onMessage(topic, payload),
    supervision,
    db,
    engine,
    securityEvent: (kind: string) => metrics.securityEvents.inc({ kind }),
    clock,
  };
  const watches = config.watch
    ? createWatchListener({
        ...wearables,
        config: config.watch,
        metrics: createWatchMetrics(metrics.registry),
        log: log.child({ part: 'watch' }),
      })
    : null;
  let watchPort: number | null = null;
  // JT/T 808 terminals: the same watches in another protocol, on their own port.
  const jt808 = config.jt808
    ? createJt808Listener({
        ...wearables,
        config: config.jt808,
        metrics: createJt808Metrics(metrics.registry),
        log: log.child({ part: 'jt808' }),
      })
    : null;
  let jt808Port: number | null = null;

  // Started in this order, stopped in reverse: the last to start (taking traffic) stop first, and
  // what arrived is committed and confirmed before the brokers, screens and stores close.
  const stopParts = await startParts(
    [
      storage.part,
      alarmWork.part,
      { name: 'telemetry lane', stop: () => telemetry.close() },
      { name: 'http app', stop: () => app.close() },
      { name: 'screens', stop: () => feed.closeAll() },
      {
        name: 'ingest commits',
        async stop() {
          await ingest.drain();
          confirmations.flush();
        },
      },
      brokers.externalPart,
      cluster.part({ external: brokers.external, refresh: refreshCaches }),
      brokers.embeddedPart,
      // Attempts under way are cut short when it stops; their rows keep their lease and are retried later.
      { name: 'channels', start: () => channels.start(), stop: () => channels.stop() },
      { name: 'sender', stop: () => sender.stop() },
      {
        name: 'http listener',
        async start() {
          await app.listen({ port: config.httpPort, host: config.bindHost });
          httpPort = (app.server.address() as { port: number }).port;
          const host = config.bindHost === '0.0.0.0' || config.bindHost === '::' ? 'localhost' : config.bindHost;
          ownUrl = `${config.tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${httpPort}`;
        },
      },
      lanes.part,
      // Stop taking new messages first; what is queued still commits ('ingest commits').
      { name: 'ingest intake', stop: () => ingest.close() },
      {
        name: 'watch listener',
        async start() {
          watchPort = watches ? await watches.listen(config.bindHost) : null;
        },
        stop: () => watches?.close(),
      },
      {
        name: 'jt808 listener',
        async start() {
          jt808Port = jt808 ? await jt808.listen(config.bindHost) : null;
        },
        stop: () => jt808?.close(),
      },
      status.part,
    ],
    log,
  );
  const { mqttPort, mqttsPort } = brokers.ports();
  log.info(
    {
      httpPort,
      mqttPort,
      mqttsPort,
      watchPort,
      jt808Port,
      tls: Boolean(config.tls),
      state: storage.engine,
      dataDir: config.dataDir,
      instanceId,
      bus: cluster.kind,
    },
    'server started',
  );

  let stopped = false;
  return {
    httpPort,
    mqttPort,
    mqttsPort,
    watchPort,
    jt808Port,
    generatedAdminPassword,
    telemetry,
    httpRoutes: () => app.registeredRoutes(),
    tick: () => lanes.tick(),
    async stop() {
      if (stopped) return;
      stopped = true;
      log.info('server stopping');
      await stopParts();
      log.info('server stopped');
    },
  };
}

/** The user and password in an external broker's URL: the server's own login there. */
function brokerLogin(mqttUrl: string | undefined): { username: string; password: string } | null {
  if (!mqttUrl) return null;
  const url = new URL(mqttUrl);
  return { username: decodeURIComponent(url.username), password: decodeURIComponent(url.password) };
}

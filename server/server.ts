// The server's composition root: builds the stores, alarm engine, ingest, broker, HTTP API and
// live feed, wires them, and owns start-up and shutdown order. `main.ts` adds the CLI around it;
// tests call `startServer` directly with port 0.
import pino, { type Logger } from 'pino';
import { type Alarm, type Clock, gatewayTopic, type IdSource, systemClock, ulidSource } from '../protocol/index.ts';
import { activityOfEvent, activityOfReading, createDailyLivingWatch } from './alarms/daily-living-watch.ts';
import { createDeviceTests } from './alarms/device-tests.ts';
import { createAlarmEngine } from './alarms/engine.ts';
import { createNotifier, webhookChannel } from './alarms/notify.ts';
import { loadPolicies } from './alarms/policies.ts';
import { createResponseChain } from './alarms/response-chain.ts';
import { createScheduler } from './alarms/scheduler.ts';
import { createSender } from './alarms/sender.ts';
import { createShifts } from './alarms/shifts.ts';
import { createSupervision } from './alarms/supervision.ts';
import { createTaskFaults } from './alarms/task-faults.ts';
import { createEmbeddedBroker, type EmbeddedBroker } from './broker/broker.ts';
import { createExternalBroker, type ExternalBroker, FEED_TOPIC } from './broker/external.ts';
import { createChannels } from './channels/index.ts';
import {
  type Bus,
  type BusHandlers,
  type BusMessage,
  localBus,
  mqttBus,
  newInstanceId,
  postgresBus,
  receiver,
  redisBus,
} from './cluster/bus.ts';
import type { ServerConfig } from './config.ts';
import { createHealthMonitor } from './health.ts';
import { createAlarmPageCache } from './http/alarm-page-cache.ts';
import { buildHttpApp } from './http/app.ts';
import type { KeptSession } from './http/auth.ts';
import { createSessionCache } from './http/session-cache.ts';
import { createConfirmations } from './ingest/confirmations.ts';
import { createIngest } from './ingest/ingest.ts';
import { createLookupCache } from './ingest/lookup-cache.ts';
import { createTelemetryAlarms } from './ingest/telemetry-alarms.ts';
import { createTelemetryLane, type TelemetryLane } from './ingest/telemetry-lane.ts';
import { createJt808Listener } from './jt808/listener.ts';
import { createJt808Metrics } from './jt808/metrics.ts';
import { createMetrics } from './metrics.ts';
import { createResponseTokens } from './respond/tokens.ts';
import { siteForView } from './respond/view.ts';
import { generateSecret, hashSecret } from './security/passwords.ts';
import { createSleepRecorder, sleepOfEvent } from './sleep/sleep-nights.ts';
import { appendAudit, createAlarmStore } from './storage/alarms.ts';
import { nextCounter } from './storage/counters.ts';
import { openDatabase } from './storage/db.ts';
import { createWriteProbe, isStoreError } from './storage/health.ts';
import { createRegistry } from './storage/registry.ts';
import { telemetryBackend } from './storage/telemetry-factory.ts';
import { createUserStore } from './storage/users.ts';
import { createWatchListener, type WatchListener } from './watch/listener.ts';
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

  const {
    db,
    close: closeDb,
    engine: dbEngine,
    durable,
  } = await openDatabase(config.dataDir, config.databaseUrl, (err) =>
    log.warn({ err: err.message }, 'database connection lost; reconnecting on next use'),
  );
  const registry = createRegistry(db);
  const users = createUserStore(db);
  const alarms = createAlarmStore(db);
  // Telemetry is decoded, stored and pruned in its own worker thread; only what the alarm engine
  // needs comes back (telemetry-lane.ts). Chart queries read the store from this thread.
  const telemetryLog = log.child({ part: 'telemetry' });
  const telemetry = createTelemetryLane({
    config,
    queryBackend: await telemetryBackend(config, { db, engine: dbEngine, log: telemetryLog }),
    log: telemetryLog,
    onFindings: (f) => void telemetryAlarms.apply(f),
    onStoreError: () => metrics.storeErrors.inc({ store: 'telemetry' }),
    onShed: (n, reason) => metrics.rejected.inc({ kind: 'telemetry', reason: `shed_${reason}` }, n),
  });

  const generatedAdminPassword = await ensureAdmin();

  const feed = createFeed(
    log.child({ part: 'ws' }),
    async (scope) => (await alarms.listForScope(scope, { open: true, limit: SNAPSHOT_MAX_ALARMS })).alarms,
    {
      epoch: await nextCounter(db, 'feed_epoch'),
      onRefused: (reason) => metrics.securityEvents.inc({ kind: reason === 'per_user' ? 'ws_screens_per_user' : 'ws_screens_total' }),
    },
  );
  const policies = await loadPolicies(db);
  // Every notification attempt goes through one bounded sender; nothing that escalates waits for it.
  const sender = createSender(log.child({ part: 'sender' }));
  // Response links (server/respond/): every message to a person carries one. Without
  // CARE_PUBLIC_URL they point at this server's own address, known once it listens.
  let ownUrl = '';
  const responseTokens = createResponseTokens(db, { publicUrl: () => config.publicUrl ?? ownUrl, now });
  // Web Push and SMS to people's phones (server/channels/), each message with its response link.
  const channels = createChannels({
    db,
    ids,
    now,
    log: log.child({ part: 'channels' }),
    config: config.channels,
    dataDir: config.dataDir,
    links: responseTokens,
  });
  channels.start();
  const smsCheck = (): Record<string, boolean> => {
    const up = channels.smsUp();
    return up === null ? {} : { sms: up };
  };
  const notifier = createNotifier({
    db,
    ids,
    now,
    log: log.child({ part: 'notify' }),
    channels: { webhook: webhookChannel(), ...channels.notifierChannels },
    messages: channels.messages,
    sender,
    cap: { perContact: config.notifyCapPerContact, windowMs: config.notifyCapWindowMs },
  });
  const engine = createAlarmEngine({
    db,
    alarms,
    ids,
    now,
    policies,
    log: log.child({ part: 'alarms' }),
    onChange: (changed) => {
      for (const a of changed) {
        bus.publish({ kind: 'alarm', alarm: a });
        showAlarm(a, true);
        if (a.count === 1 && a.state === 'active' && a.escalationLevel === 0) {
          metrics.alarmToScreen.observe(Math.max(0, clock.now() - Date.parse(a.lastEventAt)) / 1000);
        }
      }
    },
    onEscalated: (alarm, level, policy) => {
      notifier.escalated(alarm, level, policy).catch((err: unknown) => log.error({ err, alarmId: alarm.id }, 'notification failed'));
    },
  });
  // Decline, re-page, hand over in call trees, re-escalate what was accepted but never attended.
  const responseChain = createResponseChain({
    db,
    notifier,
    engine,
    policies,
    getAlarm: (id) => alarms.get(id),
    now,
    log: log.child({ part: 'respond' }),
  });
  let lastLinkPurge = 0;
  let lastPrune = 0;
  let pruning: Promise<void> | null = null;
  // Hourly: readings older than the retention period go (InfluxDB expires them by policy). It runs
  // in the telemetry worker and nothing waits for it: a first prune of a large table takes minutes.
  async function pruneTelemetry() {
    if (pruning || clock.now() - lastPrune < 3600_000) return;
    lastPrune = clock.now();
    pruning = telemetry
      .prune(new Date(clock.now() - config.telemetryRetentionDays * 86_400_000).toISOString())
      .then(
        (removed) => {
          if (removed > 0) log.info({ removed }, 'old telemetry pruned');
        },
        (err: unknown) => {
          metrics.storeErrors.inc({ store: 'telemetry' });
          log.error({ err }, 'pruning old telemetry failed; tried again in an hour');
        },
      )
      .finally(() => {
        pruning = null;
      });
  }
  const supervision = createSupervision({
    db,
    engine,
    now,
    log: log.child({ part: 'supervision' }),
    // Its next event must see the device offline, so that it clears the alarm at once.
    forgetDevice: (id) => lookups.forgetDevice(id),
  });
  const dailyLiving = createDailyLivingWatch({
    db,
    engine,
    now,
    log: log.child({ part: 'daily-living' }),
    // The lookup cache is built with ingest below; read through it once it is.
    lookups: { getResident: (id) => lookups.getResident(id), getSite: (id) => lookups.getSite(id) },
  });
  const sleepNights = createSleepRecorder({
    db,
    log: log.child({ part: 'sleep' }),
    lookups: { getResident: (id) => lookups.getResident(id), getSite: (id) => lookups.getSite(id) },
  });
  const telemetryAlarms = createTelemetryAlarms({
    db,
    engine,
    supervision,
    metrics,
    log: log.child({ part: 'ingest' }),
    onPresence: (presence) =>
      void dailyLiving.observe(
        presence.flatMap((p) => {
          const kind = activityOfReading('presence', p.value);
          return kind ? [{ residentId: p.residentId, deviceId: p.deviceId, room: p.room, at: p.at, kind }] : [];
        }),
      ),
    onSleepReadings: (readings) =>
      void sleepNights.observe(
        readings.map((r) => ({
          residentId: r.residentId,
          at: r.at,
          o:
            r.metric === 'sleep_score'
              ? { kind: 'score' as const, value: r.max }
              : { kind: 'vital' as const, metric: r.metric, min: r.min, max: r.max },
        })),
      ),
  });
  const deviceTests = createDeviceTests({ db, engine, now });
  await deviceTests.refresh();
  const shifts = createShifts({ db, engine, now, connectedUsers: () => screensOpen() });
  feed.serveFirst((alarm) => shifts.onDutyFor(alarm));
  // A scheduled task failing is counted, and three failures in a row raise a technical alarm.
  const taskFaults = createTaskFaults({ db, engine, now, log: log.child({ part: 'task-faults' }) });
  const schedulerHooks = {
    onTaskResult(name: string, ok: boolean, err?: unknown) {
      if (!ok) {
        metrics.taskFailures.inc({ task: name });
        if (isStoreError(err)) metrics.storeErrors.inc({ store: 'state' });
      }
      taskFaults.taskResult(name, ok, err);
    },
  };
  // The alarm lane: its own timer, and nothing on it waits for a notification or the network.
  const alarmLane = createScheduler(
    clock,
    log.child({ part: 'scheduler', lane: 'alarms' }),
    [
      ['escalation', () => engine.escalateDue()],
      ['upgrades', () => engine.upgradeDue()],
      ['confirmations', () => engine.confirmDue()],
      ['response chain', () => responseChain.sweep()],
      ['daily living', () => dailyLiving.evaluate()],
    ],
    1000,
    schedulerHooks,
  );
  // Everything else that runs every second; notification work here only offers attempts to the sender.
  const workLane = createScheduler(
    clock,
    log.child({ part: 'scheduler', lane: 'work' }),
    [
      ['device tests', () => deviceTests.failDue()],
      ['scheduled device tests', () => deviceTests.runSchedules(() => `test-${ids.next().toLowerCase()}`)],
      ['telemetry retention', () => pruneTelemetry()],
      [
        'response links',
        async () => {
          // Hourly: links dead for a day are deleted (they already answer 404).
          if (clock.now() - lastLinkPurge < 3600_000) return;
          lastLinkPurge = clock.now();
          await responseTokens.purgeExpired();
        },
      ],
      ['notification retries', () => notifier.retryDue(async (alarmId) => policies.get((await alarms.get(alarmId))?.siteId ?? null))],
      // Cloud SMS delivery reports, pulled: at most every 10 s, within 3 s (server/channels/cloud-receipts.ts).
      ['sms receipts', () => channels.pollSmsReceipts()],
    ],
    1000,
    schedulerHooks,
  );
  // Supervision reads every gateway and device: every 5 s is plenty for a 90 s promise.
  const supervisionScheduler = createScheduler(
    clock,
    log.child({ part: 'scheduler' }),
    [
      ['supervision', () => supervision.sweep()],
      ['screens open', async () => bus.publish({ kind: 'presence', users: [...feed.connectedUsers()] })],
      ['shift coverage', () => shifts.checkCoverage()],
    ],
    5000,
    schedulerHooks,
  );

  // Who gets the broker's messages and who speaks for it: the embedded Aedes (alone, or clustered
  // over Redis), or an external broker joined as a client (instances share ingest).
  let broker: EmbeddedBroker | null = null;
  let external: ExternalBroker | null = null;
  const publish = (topic: string, payload: string) => (external ?? broker)?.publish(topic, payload);
  /** One broker for every instance: a command published anywhere reaches the gateway. */
  const sharedBroker = Boolean(config.mqttUrl || config.redisUrl);

  // Other instances (several share the database): what they tell us, and what we tell them.
  const instanceId = newInstanceId();
  let bus: Bus = localBus(instanceId);
  /** Caregivers with a screen open on other instances, by instance, as last said. */
  const remoteScreens = new Map<string, { users: string[]; at: number }>();
  function screensOpen(): Set<string> {
    const users = feed.connectedUsers();
    for (const [id, p] of remoteScreens) {
      // An instance that stopped saying (killed) is forgotten after three of its 5 s reports.
      if (clock.now() - p.at > 15_000) remoteScreens.delete(id);
      else for (const u of p.users) users.add(u);
    }
    return users;
  }
  /** `GET /api/v1/alarms` answers, dropped on every alarm change seen here (ours or the bus's). */
  const alarmPages = createAlarmPageCache();
  /** An alarm change, from this instance or another, for this instance's screens and gateways. */
  function showAlarm(a: Alarm, fromHere: boolean) {
    alarmPages.changed();
    feed.publishAlarm(a);
    // The gateway clears its local alarm for the device once a person has taken it. With one broker
    // for all, the instance that changed the alarm tells it; with a broker each, every instance
    // tells its own (only the one the gateway is connected to has it).
    if ((fromHere || !sharedBroker) && a.state !== 'active' && a.siteId && a.gatewayId && a.deviceId) {
      publish(
        gatewayTopic(a.siteId, a.gatewayId, 'cmd'),
        JSON.stringify({ v: 1, type: 'alarm_ack', alarmId: a.id, deviceId: a.deviceId, state: a.state }),
      );
    }
  }
  async function refreshCaches() {
    lookups.clear();
    telemetry.forgetDevices();
    await policies.reload();
    await deviceTests.refresh();
  }
  const busHandlers: BusHandlers = {
    log: log.child({ part: 'bus' }),
    count: (direction) => metrics.busMessages.inc({ direction }),
    onGap() {
      metrics.busGaps.inc();
      feed.resyncAll().catch((err: unknown) => log.error({ err }, 'resending snapshots failed'));
    },
    onMessage(m: BusMessage, from: string) {
      switch (m.kind) {
        case 'alarm':
          return showAlarm(m.alarm, false);
        case 'alarm_ref':
          alarms
            .get(m.id)
            .then((a) => a && showAlarm(a, false))
            .catch((err: unknown) => log.error({ err, alarmId: m.id }, 'reading an alarm another instance changed failed'));
          return;
        case 'status':
          return feed.publishDeviceStatus(m.status);
        case 'changed':
          refreshCaches().catch((err: unknown) => log.error({ err }, 'refreshing caches after another instance wrote failed'));
          return;
        case 'disconnect':
          return broker?.disconnect(m.gatewayId);
        case 'presence':
          if (m.users.length === 0) remoteScreens.delete(from);
          else remoteScreens.set(from, { users: m.users, at: clock.now() });
          return;
        default:
          return;
      }
    },
  };
  const lookups = createLookupCache(registry);
  const confirmations = createConfirmations(publish);
  let lanesStartedAt: number | null = null;
  const health = createHealthMonitor({
    clock,
    log: log.child({ part: 'health' }),
    probe: createWriteProbe(db, dbEngine, instanceId).probe,
    // Before the first sweep, its age counts from when the lanes started, not from boot.
    lastEscalationSweep: () => alarmLane.lastRunAt('escalation') ?? lanesStartedAt,
    ingestQueueLength: () => ingest.queueLength(),
  });
  // A status that only refreshes last-seen reaches the screens (and the other instances) at most
  // every 30 s per device; changes go at once (ws/status-coalescer.ts).
  const deviceStatus = createStatusCoalescer({
    now: () => clock.now(),
    publish: (u) => {
      bus.publish({ kind: 'status', status: u });
      feed.publishDeviceStatus(u);
    },
  });
  const ingest = createIngest({
    db,
    durable,
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
    onCommit: (ok) => health.commit(ok),
    onActivity: (seen) => {
      void sleepNights.observe(
        seen.flatMap(({ event, device }) => {
          const o = sleepOfEvent(event.type, event.data);
          return o && device.residentId ? [{ residentId: device.residentId, at: event.ts, o }] : [];
        }),
      );
      void dailyLiving.observe(
        seen.flatMap(({ event, device }) => {
          const kind = activityOfEvent(event.type, event.data);
          return kind && device.residentId
            ? [{ residentId: device.residentId, deviceId: device.id, room: device.room, at: event.ts, kind }]
            : [];
        }),
      );
    },
  });
  if (config.mqttUrl) {
    const receive = receiver(instanceId, busHandlers);
    const ext = await createExternalBroker({
      url: config.mqttUrl,
      provisioning: config.mqttProvisioning,
      log: log.child({ part: 'broker' }),
      metrics,
      onMessage: (topic, payload) => ingest.onMessage(topic, payload),
      onFeed: (payload) => receive(String(payload)),
      onReconnect: () => busHandlers.onGap(),
    });
    external = ext;
    bus = mqttBus(
      instanceId,
      busHandlers,
      (text) => ext.publish(FEED_TOPIC, text),
      () => ext.connected(),
    );
  } else {
    if (config.redisUrl) bus = await redisBus(config.redisUrl, instanceId, busHandlers);
    else if (config.databaseUrl) bus = await postgresBus(config.databaseUrl, instanceId, busHandlers);
    broker = await createEmbeddedBroker({
      log: log.child({ part: 'broker' }),
      metrics,
      lookupGateway: (id) => registry.getGatewaySecretHash(id),
      rate: { perSecond: config.mqttRatePerSecond, burst: config.mqttBurst },
      connectionLimits: {
        maxPacketBytes: config.mqttMaxPacketBytes,
        maxConnectBytes: 64 * 1024,
        connectTimeoutMs: config.mqttConnectTimeoutMs,
        maxPending: config.mqttMaxPending,
        maxPendingPerAddress: config.mqttMaxPendingPerAddress,
      },
      onMessage: (topic, payload) => ingest.onMessage(topic, payload),
      redisUrl: config.redisUrl,
      heartbeatMs: config.brokerHeartbeatMs,
    });
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
      notifier,
      metrics,
      ids,
      log,
      now,
      tokenTtlMs: config.tokenTtlMs,
      dashboardDir: config.dashboardDir,
      alarmPages,
      // Sessions are kept only where no other instance can end one (session-cache.ts).
      sessionCache: bus.kind === 'local' ? createSessionCache<KeptSession>({ now: () => clock.now() }) : undefined,
      // Telemetry failing is shown, but the server stays healthy: alarms do not depend on it.
      health: async () => {
        const { ok, checks, ...details } = await health.check();
        return {
          ok: !stopping && ok,
          // An SMSC that is down is shown too; people are still reached by Web Push meanwhile.
          checks: { broker: !stopping, ...checks, telemetry: telemetry.status().ok, ...smsCheck() },
          details: { ...details, failingTasks: taskFaults.failing() },
        };
      },
      refreshMetrics: async () => {
        metrics.ingestBacklog.set(ingest.queueLength());
        const t = telemetry.status();
        metrics.telemetryBuffered.set(t.buffered);
        metrics.telemetryStoreUp.set(t.ok ? 1 : 0);
        const since = new Date(clock.now() - 24 * 3600_000).toISOString();
        const rows = await db
          .selectFrom('alarms')
          .select(['state', 'priority', (eb) => eb.fn.countAll<number>().as('n')])
          .where((eb) => eb.or([eb('state', '<>', 'resolved'), eb('resolved_at', '>=', since)]))
          .groupBy(['state', 'priority'])
          .execute();
        metrics.alarmsByState.reset();
        for (const r of rows) metrics.alarmsByState.set({ state: r.state, priority: r.priority }, Number(r.n));
      },
      readiness: async () => {
        const { ok: healthy, checks, ...details } = await health.check();
        const backlog = ingest.queueLength();
        // With other instances, a screen here must also see their alarms: the bus must be up.
        const crossInstance = bus.connected();
        const ok = !stopping && healthy && backlog < 10_000 && crossInstance;
        return { ok, checks: { broker: !stopping, ...checks, ingestBacklog: backlog, bus: crossInstance }, details };
      },
      gatewayCredentials: {
        created: async (g) => {
          ingest.forgetGateway(g.id);
          await external?.gatewayCreated(g);
        },
        secretChanged: async (id, secret) => {
          broker?.disconnect(id);
          bus.publish({ kind: 'disconnect', gatewayId: id });
          await external?.gatewaySecretChanged(id, secret);
        },
        revoked: async (id) => {
          broker?.disconnect(id);
          bus.publish({ kind: 'disconnect', gatewayId: id });
          await external?.gatewayRevoked(id);
        },
      },
      brokerHooks: config.brokerHookSecret
        ? {
            secret: config.brokerHookSecret,
            serverUser: brokerLogin(config.mqttUrl),
          }
        : null,
      onRegistryChanged: () => {
        lookups.clear();
        telemetry.forgetDevices();
        bus.publish({ kind: 'changed' });
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
        chain: responseChain,
        siteOf: (id) => siteForView(db, id),
        audit: (e) => appendAudit(db, e),
        now,
      },
    },
    log,
    config.tls,
  );

  let stopping = false;
  const mqttPort = broker ? await broker.listen(config.mqttPort, config.bindHost) : 0;
  const mqttsPort = broker && config.tls ? await broker.listenTls(config.tls.mqttsPort, config.bindHost, config.tls) : null;
  // GPS watches reach the server directly; their alarms go through the same ingest as a gateway's.
  const watches: WatchListener | null = config.watch
    ? createWatchListener({
        config: config.watch,
        lookups,
        getGateway: (id) => registry.getGateway(id),
        ingest: (topic, payload) => ingest.onMessage(topic, payload),
        supervision,
        db,
        engine,
        metrics: createWatchMetrics(metrics.registry),
        securityEvent: (kind) => metrics.securityEvents.inc({ kind }),
        log: log.child({ part: 'watch' }),
        clock,
      })
    : null;
  const watchPort = watches ? await watches.listen(config.bindHost) : null;
  // JT/T 808 terminals: the same watches in another protocol, on their own port.
  const jt808 = config.jt808
    ? createJt808Listener({
        config: config.jt808,
        lookups,
        getGateway: (id) => registry.getGateway(id),
        ingest: (topic, payload) => ingest.onMessage(topic, payload),
        supervision,
        db,
        engine,
        metrics: createJt808Metrics(metrics.registry),
        securityEvent: (kind) => metrics.securityEvents.inc({ kind }),
        log: log.child({ part: 'jt808' }),
        clock,
      })
    : null;
  const jt808Port = jt808 ? await jt808.listen(config.bindHost) : null;
  await app.listen({ port: config.httpPort, host: config.bindHost });
  const httpPort = (app.server.address() as { port: number }).port;
  const ownHost = config.bindHost === '0.0.0.0' || config.bindHost === '::' ? 'localhost' : config.bindHost;
  ownUrl = `${config.tls ? 'https' : 'http'}://${ownHost.includes(':') ? `[${ownHost}]` : ownHost}:${httpPort}`;
  lanesStartedAt = clock.now();
  alarmLane.start();
  workLane.start();
  supervisionScheduler.start();
  log.info(
    {
      httpPort,
      mqttPort,
      mqttsPort,
      watchPort,
      jt808Port,
      tls: Boolean(config.tls),
      state: dbEngine,
      dataDir: config.dataDir,
      instanceId,
      bus: bus.kind,
    },
    'server started',
  );

  async function ensureAdmin(): Promise<string | null> {
    if ((await users.count()) > 0) return null;
    const password = config.adminPassword ?? generateSecret(12);
    await users.create(
      {
        id: `usr-${ids.next().toLowerCase()}`,
        username: 'admin',
        role: 'admin',
        displayName: 'Administrator',
        siteId: null,
        residentId: null,
        passwordHash: await hashSecret(password),
      },
      now(),
    );
    log.info('created user admin');
    return config.adminPassword ? null : password;
  }

  return {
    httpPort,
    mqttPort,
    mqttsPort,
    watchPort,
    jt808Port,
    generatedAdminPassword,
    telemetry,
    httpRoutes: () => app.registeredRoutes(),
    tick: async () => {
      await alarmLane.tick();
      await workLane.tick();
      await supervisionScheduler.tick();
    },
    async stop() {
      if (stopping) return;
      stopping = true;
      log.info('server stopping');
      // Stop taking new messages, finish committing what arrived, confirm it, then close stores.
      await watches?.close();
      await jt808?.close();
      ingest.close();
      await alarmLane.stop();
      await workLane.stop();
      await supervisionScheduler.stop();
      await taskFaults.settle();
      // Attempts under way are cut short; their rows keep their lease and are retried later.
      await sender.stop();
      await channels.stop();
      // Our screens are closing: other instances must not count them for shift coverage.
      bus.publish({ kind: 'presence', users: [] });
      await broker?.close();
      await bus.close();
      await external?.close();
      await ingest.drain();
      confirmations.flush();
      feed.closeAll();
      await app.close();
      await telemetry.close();
      await telemetryAlarms.idle();
      await closeDb();
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

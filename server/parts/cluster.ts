// Other instances (several share the database): what they tell us, and what we tell them, over the
// external broker, Redis or PostgreSQL; alone, a local bus that tells nobody. Until the part starts,
// messages go to the local bus.
import type { Logger } from 'pino';
import type { Alarm, Clock } from '../../protocol/index.ts';
import type { ExternalBroker } from '../broker/external.ts';
import { FEED_TOPIC } from '../broker/external.ts';
import { type Bus, type BusHandlers, type BusMessage, localBus, mqttBus, postgresBus, receiver, redisBus } from '../cluster/bus.ts';
import type { ServerConfig } from '../config.ts';
import type { Metrics } from '../metrics.ts';
import type { AlarmStore } from '../storage/alarms.ts';
import type { Feed } from '../ws/feed.ts';
import type { GatewayLink } from './gateway-link.ts';

export interface ClusterDeps {
  config: Pick<ServerConfig, 'mqttUrl' | 'redisUrl' | 'databaseUrl'>;
  instanceId: string;
  log: Logger;
  metrics: Metrics;
  clock: Clock;
  feed: Feed;
  alarms: AlarmStore;
  gateways: GatewayLink;
  /** An alarm another instance changed, for this instance's screens and gateways. */
  showAlarm(a: Alarm, fromHere: boolean): void;
}

export function createCluster(deps: ClusterDeps) {
  const { config, instanceId, log, metrics, clock, feed, alarms } = deps;
  let bus: Bus = localBus(instanceId);
  let onChanged: (() => Promise<void>) | null = null;
  /** Caregivers with a screen open on other instances, by instance, as last said. */
  const remoteScreens = new Map<string, { users: string[]; at: number }>();

  const handlers: BusHandlers = {
    log: log.child({ part: 'bus' }),
    count: (direction) => metrics.busMessages.inc({ direction }),
    onGap() {
      metrics.busGaps.inc();
      feed.resyncAll().catch((err: unknown) => log.error({ err }, 'resending snapshots failed'));
    },
    onMessage(m: BusMessage, from: string) {
      switch (m.kind) {
        case 'alarm':
          return deps.showAlarm(m.alarm, false);
        case 'alarm_ref':
          alarms
            .get(m.id)
            .then((a) => a && deps.showAlarm(a, false))
            .catch((err: unknown) => log.error({ err, alarmId: m.id }, 'reading an alarm another instance changed failed'));
          return;
        case 'status':
          return feed.publishDeviceStatus(m.status);
        case 'changed':
          onChanged?.().catch((err: unknown) => log.error({ err }, 'refreshing caches after another instance wrote failed'));
          return;
        case 'disconnect':
          return deps.gateways.disconnect(m.gatewayId);
        case 'presence':
          if (m.users.length === 0) remoteScreens.delete(from);
          else remoteScreens.set(from, { users: m.users, at: clock.now() });
          return;
        default:
          return;
      }
    },
  };
  const receive = receiver(instanceId, handlers);

  return {
    instanceId,
    /** The transport the bus will use, known from the configuration before it connects. */
    kind: (config.mqttUrl ? 'mqtt' : config.redisUrl ? 'redis' : config.databaseUrl ? 'postgres' : 'local') satisfies Bus['kind'],
    publish: (m: BusMessage) => bus.publish(m),
    connected: () => bus.connected(),
    /** A bus message that came in over the external broker's feed topic. */
    receive: (payload: Buffer) => receive(String(payload)),
    /** The external broker was cut off and is back: feed messages sent meanwhile are lost. */
    onGap: () => handlers.onGap(),
    /** Caregivers with a screen open here or on another instance that still reports. */
    screensOpen(): Set<string> {
      const users = feed.connectedUsers();
      for (const [id, p] of remoteScreens) {
        // An instance that stopped saying (killed) is forgotten after three of its 5 s reports.
        if (clock.now() - p.at > 15_000) remoteScreens.delete(id);
        else for (const u of p.users) users.add(u);
      }
      return users;
    },
    /** The part: connects the bus (over the external broker when there is one); `refresh` rereads caches. */
    part(opts: { external: () => ExternalBroker | null; refresh: () => Promise<void> }) {
      return {
        name: 'cluster bus',
        async start() {
          onChanged = opts.refresh;
          const ext = opts.external();
          if (ext) {
            bus = mqttBus(
              instanceId,
              handlers,
              (text) => ext.publish(FEED_TOPIC, text),
              () => ext.connected(),
            );
          } else if (config.redisUrl) bus = await redisBus(config.redisUrl, instanceId, handlers);
          else if (config.databaseUrl) bus = await postgresBus(config.databaseUrl, instanceId, handlers);
        },
        async stop() {
          // Our screens are closing: other instances must not count them for shift coverage.
          bus.publish({ kind: 'presence', users: [] });
          await bus.close();
        },
      };
    },
  };
}
export type Cluster = ReturnType<typeof createCluster>;

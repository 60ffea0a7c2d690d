// Who gets the gateways' messages and who speaks for them: the embedded Aedes (alone, or clustered
// over Redis), or an external broker joined as a client (instances share ingest). Two parts: the
// external broker starts before the cluster bus (the bus rides on it), the embedded one after.
import type { Logger } from 'pino';
import { createEmbeddedBroker, type EmbeddedBroker } from '../broker/broker.ts';
import { createExternalBroker, type ExternalBroker } from '../broker/external.ts';
import type { ServerConfig } from '../config.ts';
import type { GatewayCredentials } from '../http/registry.ts';
import type { Metrics } from '../metrics.ts';
import type { Registry } from '../storage/registry.ts';
import type { Cluster } from './cluster.ts';
import type { GatewayLink } from './gateway-link.ts';

export interface BrokersDeps {
  config: ServerConfig;
  log: Logger;
  metrics: Metrics;
  registry: Pick<Registry, 'getGatewaySecretHash'>;
  gateways: GatewayLink;
  cluster: Pick<Cluster, 'publish' | 'receive' | 'onGap'>;
  /** Every message a gateway published (ingest). */
  onMessage: (topic: string, payload: Buffer) => Promise<void>;
  /** A new gateway's cached site must be read afresh. */
  forgetGateway: (id: string) => void;
}

export function createBrokers(deps: BrokersDeps) {
  const { config, log, metrics, gateways, cluster } = deps;
  let broker: EmbeddedBroker | null = null;
  let external: ExternalBroker | null = null;
  let mqttPort = 0;
  let mqttsPort: number | null = null;

  const gatewayCredentials: GatewayCredentials = {
    created: async (g) => {
      deps.forgetGateway(g.id);
      await external?.gatewayCreated(g);
    },
    secretChanged: async (id, secret) => {
      broker?.disconnect(id);
      cluster.publish({ kind: 'disconnect', gatewayId: id });
      await external?.gatewaySecretChanged(id, secret);
    },
    revoked: async (id) => {
      broker?.disconnect(id);
      cluster.publish({ kind: 'disconnect', gatewayId: id });
      await external?.gatewayRevoked(id);
    },
  };

  return {
    gatewayCredentials,
    external: () => external,
    ports: () => ({ mqttPort, mqttsPort }),
    externalPart: {
      name: 'external broker',
      async start() {
        if (!config.mqttUrl) return;
        external = await createExternalBroker({
          url: config.mqttUrl,
          provisioning: config.mqttProvisioning,
          log: log.child({ part: 'broker' }),
          metrics,
          onMessage: deps.onMessage,
          onFeed: (payload) => cluster.receive(payload),
          onReconnect: () => cluster.onGap(),
        });
        gateways.attach(external);
      },
      async stop() {
        await external?.close();
      },
    },
    embeddedPart: {
      name: 'embedded broker',
      async start() {
        if (config.mqttUrl) return;
        broker = await createEmbeddedBroker({
          log: log.child({ part: 'broker' }),
          metrics,
          lookupGateway: (id) => deps.registry.getGatewaySecretHash(id),
          rate: { perSecond: config.mqttRatePerSecond, burst: config.mqttBurst },
          connectionLimits: {
            maxPacketBytes: config.mqttMaxPacketBytes,
            maxConnectBytes: 64 * 1024,
            connectTimeoutMs: config.mqttConnectTimeoutMs,
            maxPending: config.mqttMaxPending,
            maxPendingPerAddress: config.mqttMaxPendingPerAddress,
          },
          onMessage: deps.onMessage,
          redisUrl: config.redisUrl,
          heartbeatMs: config.brokerHeartbeatMs,
        });
        gateways.attach(broker);
        mqttPort = await broker.listen(config.mqttPort, config.bindHost);
        mqttsPort = config.tls ? await broker.listenTls(config.tls.mqttsPort, config.bindHost, config.tls) : null;
      },
      async stop() {
        await broker?.close();
      },
    },
  };
}

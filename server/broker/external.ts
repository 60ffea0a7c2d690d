// External broker mode (CARE_MQTT_URL): the server is a client of an existing MQTT broker, and
// several server instances split ingest through shared subscriptions (`$share/care-ingest/...`),
// so each message is handled by exactly one of them. Gateway credentials and topic ACLs are
// provisioned into the broker through Mosquitto 2's dynamic-security plugin (`$CONTROL` topic):
// the broker, not this server, checks them. With provisioning `none` (EMQX), the broker asks this
// server's HTTP hooks instead (`server/http/broker-hooks.ts`). The cross-instance bus rides on an
// internal topic, so every caregiver screen sees every alarm whichever instance it is connected to.
import { randomBytes } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { type BackoffOptions, reconnectWithBackoff } from '../../protocol/backoff.ts';
import { gatewayPrefix, SERVER_SUBSCRIPTIONS, TOPIC_ROOT } from '../../protocol/index.ts';
import type { Metrics } from '../metrics.ts';

export const SHARE_GROUP = 'care-ingest';
export const FEED_TOPIC = 'care-internal/v1/feed';
const DYNSEC = '$CONTROL/dynamic-security/v1';
const SERVER_ROLE = 'care-server';
/**
 * Reconnecting to the broker: full jitter, the first retry within 1 s, none later than 10 s apart
 * (several server instances lose one broker together and must not all dial it in the same instant).
 */
export const EXTERNAL_BROKER_BACKOFF: BackoffOptions = { baseMs: 1000, capMs: 10_000 };

export interface ExternalBrokerDeps {
  url: string;
  /** dynsec: provision gateways into Mosquitto's plugin; none: the broker checks them itself (HTTP hooks). */
  provisioning?: 'dynsec' | 'none';
  log: Logger;
  metrics: Metrics;
  onMessage: (topic: string, payload: Buffer) => Promise<void>;
  onFeed: (payload: Buffer) => void;
  /** Connected again after a cut: feed messages sent meanwhile are lost. */
  onReconnect?: () => void;
}

type DynsecCommand = Record<string, unknown> & { command: string };

export async function createExternalBroker(deps: ExternalBrokerDeps) {
  const { log } = deps;
  const url = new URL(deps.url);
  const client: MqttClient = await mqtt.connectAsync(deps.url, {
    clientId: `care-server-${randomBytes(4).toString('hex')}`,
    clean: true,
    // Reconnected by reconnectWithBackoff below (protocol/backoff.ts), not MQTT.js's fixed period.
    reconnectPeriod: 0,
    keepalive: 30,
  });
  reconnectWithBackoff(client, EXTERNAL_BROKER_BACKOFF);
  log.info({ broker: `${url.protocol}//${url.host}` }, 'connected to external broker');

  // Dynamic-security commands answer on a response topic, in order; match them by correlation.
  type Response = { error?: string; data?: { client?: { roles?: Array<{ rolename: string }> } } };
  const pending = new Map<string, (r: Response) => void>();
  client.on('message', (topic, payload) => {
    if (topic === `${DYNSEC}/response`) {
      try {
        const body = JSON.parse(String(payload)) as { responses?: Array<Response & { command: string; correlationData?: string }> };
        for (const r of body.responses ?? []) {
          const cb = r.correlationData ? pending.get(r.correlationData) : undefined;
          if (cb && r.correlationData) {
            pending.delete(r.correlationData);
            cb(r);
          }
        }
      } catch (err) {
        log.warn({ err }, 'unreadable dynamic-security response');
      }
      return;
    }
    if (topic === FEED_TOPIC) return deps.onFeed(payload);
    void deps.onMessage(topic, payload);
  });
  client.on('error', (err) => log.warn({ err: err.message }, 'external broker error'));
  // Without MQTT.js's own reconnect it keeps no subscriptions to renew: a new session gets ours again.
  const subscriptions: string[] = [];
  async function subscribe(filter: string) {
    if (!subscriptions.includes(filter)) subscriptions.push(filter);
    await client.subscribeAsync(filter, { qos: 1 });
  }
  let cut = false;
  client.on('close', () => {
    if (cut || client.disconnecting || client.disconnected) return;
    cut = true;
    log.warn('external broker unreachable; reconnecting');
  });
  client.on('connect', () => {
    if (!cut) return;
    cut = false;
    client.subscribe(subscriptions, { qos: 1 }, (err) => {
      if (err) log.error({ err: err.message }, 'subscribing again after a reconnect failed');
    });
    deps.onReconnect?.();
  });

  async function dynsec(commands: DynsecCommand[], tolerate: string[] = []): Promise<Response[]> {
    const results = await Promise.all(
      commands.map(
        (c) =>
          new Promise<Response>((resolve, reject) => {
            const id = randomBytes(8).toString('hex');
            const timer = setTimeout(() => {
              pending.delete(id);
              reject(new Error(`broker did not answer ${c.command}`));
            }, 5000);
            pending.set(id, (r) => {
              clearTimeout(timer);
              resolve(r);
            });
            client.publish(DYNSEC, JSON.stringify({ commands: [{ ...c, correlationData: id }] }), { qos: 1 });
          }),
      ),
    );
    const failed = results.find((r) => r.error && !tolerate.some((t) => r.error?.includes(t)));
    if (failed) throw new Error(`broker refused: ${failed.error}`);
    return results;
  }

  /** The server's own rights: read every gateway's uplink through the share, write commands, fan out. */
  async function provisionServer() {
    await subscribe(`${DYNSEC}/response`);
    const username = decodeURIComponent(url.username);
    await dynsec(
      [
        {
          command: 'createRole',
          rolename: SERVER_ROLE,
          acls: [
            { acltype: 'subscribePattern', topic: `$share/${SHARE_GROUP}/${TOPIC_ROOT}/#`, allow: true },
            { acltype: 'subscribePattern', topic: `${TOPIC_ROOT}/#`, allow: true },
            { acltype: 'publishClientSend', topic: `${TOPIC_ROOT}/+/+/cmd`, allow: true },
            { acltype: 'publishClientSend', topic: FEED_TOPIC, allow: true },
            { acltype: 'subscribeLiteral', topic: FEED_TOPIC, allow: true },
          ],
        },
      ],
      ['already exists'],
    );
    if (username) {
      const [me] = await dynsec([{ command: 'getClient', username }]);
      if (!me?.data?.client?.roles?.some((r) => r.rolename === SERVER_ROLE)) {
        // The plugin disconnects a client whose roles change, so the answer may never come: wait for
        // the reconnection instead (mqtt.js reconnects on its own).
        const back = new Promise((resolve) => client.once('connect', resolve));
        await dynsec([{ command: 'addClientRole', username, rolename: SERVER_ROLE }]).catch(() => undefined);
        await Promise.race([back, new Promise((resolve) => setTimeout(resolve, 5000))]);
        await subscribe(`${DYNSEC}/response`);
      }
    }
  }

  const dynsecOn = (deps.provisioning ?? 'dynsec') === 'dynsec';
  if (dynsecOn) await provisionServer();
  for (const filter of SERVER_SUBSCRIPTIONS) await subscribe(`$share/${SHARE_GROUP}/${filter}`);
  await subscribe(FEED_TOPIC);

  const gatewayRole = (id: string) => `care-gw-${id}`;
  return {
    connected: () => client.connected,
    publish(topic: string, payload: string) {
      client.publish(topic, payload, { qos: 1 }, (err) => {
        if (err) log.error({ err: err.message, topic }, 'publish to external broker failed');
      });
    },
    async gatewayCreated(g: { id: string; siteId: string; secret: string }) {
      if (!dynsecOn) return; // the broker asks the HTTP hooks, which read the registry
      const prefix = gatewayPrefix(g.siteId, g.id);
      await dynsec([
        {
          command: 'createRole',
          rolename: gatewayRole(g.id),
          acls: [
            { acltype: 'publishClientSend', topic: `${prefix}events`, allow: true },
            { acltype: 'publishClientSend', topic: `${prefix}telemetry`, allow: true },
            { acltype: 'publishClientSend', topic: `${prefix}status`, allow: true },
            { acltype: 'subscribeLiteral', topic: `${prefix}cmd`, allow: true },
          ],
        },
      ]);
      await dynsec([
        { command: 'createClient', username: g.id, password: g.secret, clientid: g.id, roles: [{ rolename: gatewayRole(g.id) }] },
      ]);
    },
    async gatewaySecretChanged(id: string, secret: string) {
      // With HTTP hooks the next connection is checked against the new secret; the broker's
      // authorisation cache expires the open session's rights (the hook denies a revoked gateway).
      if (!dynsecOn) return;
      await dynsec([{ command: 'setClientPassword', username: id, password: secret }]);
      // Disabling drops the live session; enabling lets the new secret in.
      await dynsec([{ command: 'disableClient', username: id }]);
      await dynsec([{ command: 'enableClient', username: id }]);
    },
    async gatewayRevoked(id: string) {
      if (!dynsecOn) return;
      await dynsec([{ command: 'disableClient', username: id }]);
    },
    async close() {
      for (const cb of pending.values()) cb({ error: 'closing' });
      await client.endAsync();
    },
  };
}
export type ExternalBroker = Awaited<ReturnType<typeof createExternalBroker>>;

// Direct mode: the simulator connects to the broker as a gateway (client id = username = gateway
// id, password = its secret) and publishes canonical events and telemetry at QoS 1, then waits for
// the server's `committed` confirmation on the gateway's cmd topic (DESIGN.md 3.3, 3.4, 7.2).
import mqtt, { type MqttClient } from 'mqtt';
import {
  createDecoder,
  type DeviceEvent,
  type EventType,
  GatewayCmd,
  type GatewayStatus,
  gatewayTopic,
  type IdSource,
  type Metric,
  type Reading,
  reconnectWithBackoff,
  type TelemetryBatch,
  ulidSource,
} from '../protocol/index.ts';
import { SimFailure } from './cli.ts';

const decodeCmd = createDecoder(GatewayCmd);

export interface GatewayLogin {
  url: string;
  siteId: string;
  gatewayId: string;
  secret: string;
}

export interface EventInput {
  device: string;
  type: EventType;
  data?: Record<string, unknown>;
  ts?: string;
}

export interface ReadingInput {
  device: string;
  metric: Metric;
  value: number;
  ts?: string;
}

export interface DirectGateway {
  readonly login: GatewayLogin;
  /** Publishes one event; resolves with it once the broker has PUBACKed (not yet committed). */
  sendEvent(e: EventInput): Promise<DeviceEvent>;
  /** Resolves when every id is confirmed committed; rejects after `timeoutMs` naming what is missing. */
  waitCommitted(ids: string[], timeoutMs: number): Promise<void>;
  sendTelemetry(points: ReadingInput[]): Promise<TelemetryBatch>;
  publishStatus(status: Omit<GatewayStatus, 'v'>): Promise<void>;
  /** Events published and not yet confirmed. */
  inFlight(): number;
  /** Called with each confirmation's events of this connection and their publish-to-commit time. */
  onCommitted(listener: (committed: Array<{ id: string; ms: number }>) => void): void;
  close(): Promise<void>;
}

/** Refusal codes of MQTT 3.1.1 CONNACK, as an installer would want them explained. */
function explainRefusal(code: number | undefined, login: GatewayLogin): string {
  switch (code) {
    case 2:
      return `the broker refused client id "${login.gatewayId}"`;
    case 3:
      return 'the server is unavailable (it could not check the gateway credentials)';
    case 4:
    case 5:
      return `the broker refused gateway "${login.gatewayId}": unknown gateway id or wrong secret`;
    default:
      return `the broker refused the connection (code ${code ?? '?'})`;
  }
}

export interface ConnectOptions {
  connectTimeoutMs?: number;
  ids?: IdSource;
  /** First seq; defaults to the wall-clock milliseconds so separate runs keep increasing. */
  firstSeq?: number;
  /** Reconnect after a lost connection (load runs) instead of failing (one-shot commands). */
  reconnect?: boolean;
  onConnectionLost?: (why: string) => void;
}

export async function connectGateway(login: GatewayLogin, opts: ConnectOptions = {}): Promise<DirectGateway> {
  const ids = opts.ids ?? ulidSource();
  let seq = opts.firstSeq ?? Date.now();
  const cmdTopic = gatewayTopic(login.siteId, login.gatewayId, 'cmd');
  // Published, not yet confirmed: when it was published and who waits for it.
  const pending = new Map<string, { at: number; done?: () => void }>();
  const confirmed = new Set<string>();
  const listeners: Array<(committed: Array<{ id: string; ms: number }>) => void> = [];

  const client: MqttClient = mqtt.connect(login.url, {
    clientId: login.gatewayId,
    username: login.gatewayId,
    password: login.secret,
    protocolVersion: 4,
    clean: true,
    connectTimeout: opts.connectTimeoutMs ?? 10_000,
    // Reconnects are ours (below): mqtt.js retries at one fixed period, in step with every other client.
    reconnectPeriod: 0,
    keepalive: 30,
  });

  await new Promise<void>((resolve, reject) => {
    const fail = (why: string) => {
      client.end(true);
      reject(new SimFailure(why));
    };
    const timer = setTimeout(
      () => fail(`no answer from the broker at ${login.url} within ${opts.connectTimeoutMs ?? 10_000} ms`),
      opts.connectTimeoutMs ?? 10_000,
    );
    client.once('connect', () => {
      clearTimeout(timer);
      client.off('error', onError);
      client.off('close', onClose);
      resolve();
    });
    const onError = (err: Error & { code?: number | string }) => {
      clearTimeout(timer);
      fail(typeof err.code === 'number' ? explainRefusal(err.code, login) : `cannot reach the broker at ${login.url}: ${err.message}`);
    };
    const onClose = () => {
      clearTimeout(timer);
      fail(`the broker at ${login.url} closed the connection before accepting it`);
    };
    client.on('error', onError);
    client.on('close', onClose);
  });

  client.on('message', (topic, payload) => {
    if (topic !== cmdTopic) return;
    const d = decodeCmd.decode(payload);
    if (!d.ok || d.value.type !== 'committed') return;
    const now = Date.now();
    const committed: Array<{ id: string; ms: number }> = [];
    for (const id of d.value.ids) {
      confirmed.add(id);
      // Remember recent confirmations only (a confirmation may overtake its waiter); bounded for load runs.
      if (confirmed.size > 100_000) confirmed.delete(confirmed.values().next().value as string);
      const p = pending.get(id);
      if (!p) continue;
      pending.delete(id);
      committed.push({ id, ms: now - p.at });
      p.done?.();
    }
    for (const l of listeners) l(committed);
  });
  client.on('error', (err) => opts.onConnectionLost?.(err.message));
  client.on('close', () => opts.onConnectionLost?.('connection closed'));
  if (opts.reconnect) {
    reconnectWithBackoff(client);
    // mqtt.js remembers subscriptions for its own reconnects only: renew the cmd one on ours.
    client.on('connect', () => {
      client.subscribe(cmdTopic, { qos: 1 }, (err) => {
        if (err) opts.onConnectionLost?.(`could not subscribe to ${cmdTopic} again: ${err.message}`);
      });
    });
  }

  await client.subscribeAsync(cmdTopic, { qos: 1 }).then((granted) => {
    if (granted[0]?.qos === 128) throw new SimFailure(`the broker refused the subscription to ${cmdTopic}`);
  });

  const publish = async (topic: string, payload: string, retain = false) => {
    if (!client.connected && !opts.reconnect) {
      throw new SimFailure(`not connected to the broker (publish refused? check --site ${login.siteId})`);
    }
    await client.publishAsync(topic, payload, { qos: 1, retain });
  };

  return {
    login,
    async sendEvent(e) {
      const event: DeviceEvent = {
        v: 1,
        id: ids.next(),
        seq: seq++,
        ts: e.ts ?? new Date().toISOString(),
        device: e.device,
        type: e.type,
        ...(e.data ? { data: e.data } : {}),
      };
      // Registered before publishing: the confirmation can overtake the PUBACK.
      pending.set(event.id, { at: Date.now() });
      await publish(gatewayTopic(login.siteId, login.gatewayId, 'events'), JSON.stringify(event));
      return event;
    },
    waitCommitted(idList, timeoutMs) {
      const waiting = idList.filter((id) => !confirmed.has(id));
      if (waiting.length === 0) return Promise.resolve();
      return new Promise((resolve, reject) => {
        let left = waiting.length;
        const timer = setTimeout(() => {
          const missing = waiting.filter((id) => !confirmed.has(id));
          reject(
            new SimFailure(
              `${missing.length} of ${idList.length} event(s) not confirmed committed within ${timeoutMs} ms: ${missing.slice(0, 5).join(', ')}`,
            ),
          );
        }, timeoutMs);
        for (const id of waiting) {
          const p = pending.get(id) ?? { at: Date.now() };
          p.done = () => {
            if (--left === 0) {
              clearTimeout(timer);
              resolve();
            }
          };
          pending.set(id, p);
        }
      });
    },
    async sendTelemetry(points) {
      const ts = new Date().toISOString();
      const batch: TelemetryBatch = {
        v: 1,
        ts,
        points: points.map((p): Reading => ({ device: p.device, metric: p.metric, value: p.value, ts: p.ts ?? ts })),
      };
      await publish(gatewayTopic(login.siteId, login.gatewayId, 'telemetry'), JSON.stringify(batch));
      return batch;
    },
    async publishStatus(status) {
      await publish(gatewayTopic(login.siteId, login.gatewayId, 'status'), JSON.stringify({ v: 1, ...status }), true);
    },
    inFlight: () => pending.size,
    onCommitted(l) {
      listeners.push(l);
    },
    async close() {
      opts.onConnectionLost = undefined;
      await client.endAsync();
    },
  };
}

// Zigbee2MQTT adapter: subscribes to a Zigbee2MQTT bridge on the local broker and turns the state
// messages of configured devices into canonical events and readings through the model table.
// Devices not in the config are not ours: logged once, never alarmed.
import mqtt, { type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { reconnectWithBackoff } from '../../../protocol/backoff.ts';
import type { AdapterSink, DeviceAdapter } from '../types.ts';
import { type DeviceConfig, type DeviceMemory, mapState, parseAvailability } from './models.ts';

export interface Zigbee2MqttConfig {
  url: string;
  baseTopic?: string;
  username?: string;
  password?: string;
  devices: Record<string, DeviceConfig>;
}

export const BRIDGE_DEVICE = 'zigbee2mqtt-bridge';
const MAX_PAYLOAD = 64 * 1024;

export function createZigbee2MqttAdapter(config: Zigbee2MqttConfig, sink: AdapterSink, log: Logger): DeviceAdapter {
  const base = config.baseTopic ?? 'zigbee2mqtt';
  const memory = new Map<string, DeviceMemory>();
  const unknownLogged = new Set<string>();
  let client: MqttClient | null = null;

  function onMessage(topic: string, payload: Buffer) {
    if (!topic.startsWith(`${base}/`)) return;
    const rest = topic.slice(base.length + 1);
    if (rest.startsWith('bridge/')) return;
    const [name, sub] = rest.split('/');
    if (!name) return;
    const cfg = config.devices[name];
    if (!cfg) {
      if (!unknownLogged.has(name) && unknownLogged.size < 1000) {
        unknownLogged.add(name);
        log.info({ friendlyName: name }, 'zigbee device not in the gateway config; ignored');
      }
      return;
    }
    if (payload.length > MAX_PAYLOAD) return sink.rejected(topic, 'payload too large');
    if (sub === 'availability') {
      const state = parseAvailability(payload.toString('utf8'));
      if (state === null) return sink.rejected(topic, 'unreadable availability');
      if (state === 'offline') sink.fault(cfg.device, 'zigbee availability offline');
      else sink.recovered(cfg.device);
      return;
    }
    if (sub !== undefined) return;
    let state: unknown;
    try {
      state = JSON.parse(payload.toString('utf8'));
    } catch {
      return sink.rejected(topic, 'not JSON');
    }
    if (typeof state !== 'object' || state === null || Array.isArray(state)) return sink.rejected(topic, 'not a JSON object');
    let mem = memory.get(cfg.device);
    if (!mem) {
      mem = {};
      memory.set(cfg.device, mem);
    }
    const battery = (state as { battery?: unknown }).battery;
    sink.seen(cfg.device, typeof battery === 'number' ? { battery } : undefined);
    for (const m of mapState(state as Record<string, unknown>, cfg, mem)) {
      if (m.kind === 'event') sink.event({ device: cfg.device, type: m.type, data: m.data });
      else sink.reading({ device: cfg.device, metric: m.metric, value: m.value });
    }
  }

  return {
    name: `zigbee2mqtt:${config.url}`,
    async start() {
      client = mqtt.connect(config.url, {
        username: config.username,
        password: config.password,
        // Reconnected by reconnectWithBackoff below (protocol/backoff.ts), not MQTT.js's fixed period.
        reconnectPeriod: 0,
        clientId: `care-gw-z2m-${Math.random().toString(16).slice(2, 10)}`,
      });
      // The bridge's broker is on this host: retried from 1 s to 5 s, without jitter (one client).
      reconnectWithBackoff(client, { baseMs: 1000, capMs: 5000, minShare: 1 });
      client.on('connect', () => {
        sink.recovered(BRIDGE_DEVICE);
        client?.subscribe([`${base}/+`, `${base}/+/availability`], { qos: 1 });
        log.info({ url: config.url, baseTopic: base }, 'zigbee2mqtt bridge connected');
      });
      client.on('message', (topic, payload) => {
        try {
          onMessage(topic, payload);
        } catch (err) {
          sink.rejected(topic, (err as Error).message);
        }
      });
      client.on('error', (err) => log.warn({ err: err.message }, 'zigbee2mqtt broker error'));
      // Without MQTT.js's own reconnect (reconnectPeriod 0) it never emits 'offline': a closed
      // connection, or a connect that failed, is the fault (stop() clears `client` first).
      const own = client;
      client.on('close', () => {
        if (client === own) sink.fault(BRIDGE_DEVICE, 'zigbee2mqtt broker unreachable');
      });
    },
    async stop() {
      const c = client;
      client = null;
      if (c) await c.endAsync(true);
    },
  };
}

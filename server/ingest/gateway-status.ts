// A gateway's status message: online or offline (its last will), its faults, and its devices'
// last-seen and battery (a low battery raises `low_battery`).
import { createDecoder, GatewayStatus, type ParsedTopic } from '../../protocol/index.ts';
import type { AlarmEngine } from '../alarms/engine.ts';
import { reportGatewayFaults } from '../alarms/gateway-faults.ts';
import { DEFAULT_LOW_BATTERY_PERCENT, evaluateBattery } from '../alarms/low-battery.ts';
import type { Supervision } from '../alarms/supervision.ts';
import type { Metrics } from '../metrics.ts';
import type { AlarmStore } from '../storage/alarms.ts';
import type { Db, Registry } from '../storage/registry.ts';
import type { DeviceStatusUpdate } from './ingest.ts';
import type { LookupCache } from './lookup-cache.ts';

const decodeStatus = createDecoder(GatewayStatus);

export interface GatewayStatusDeps {
  db: Db;
  registry: Pick<Registry, 'touchDevice'>;
  engine: AlarmEngine;
  alarms: AlarmStore;
  supervision: Supervision;
  lookups: Pick<LookupCache, 'getDevice'>;
  metrics: Metrics;
  now: () => string;
  onDeviceStatus: (u: DeviceStatusUpdate) => void;
  /** Battery percentage under which a device raises `low_battery`. */
  lowBatteryPercent?: number;
  /** A payload that does not decode: counted and logged by ingest. */
  reject(kind: string, reason: string, topic: string, error: string): void;
}

export function createGatewayStatus(deps: GatewayStatusDeps) {
  const { db, engine, supervision, lookups, metrics, now } = deps;
  const lowBattery = deps.lowBatteryPercent ?? DEFAULT_LOW_BATTERY_PERCENT;

  return async function onStatus(topic: ParsedTopic, raw: string, payload: Buffer) {
    if (payload.length === 0) return; // a cleared retained message
    const d = decodeStatus.decode(payload);
    if (!d.ok) return deps.reject('status', d.reason, raw, d.error);
    const at = now();
    const status = d.value;
    if (status.outboxDepth !== undefined) metrics.gatewayOutboxDepth.set({ gateway: topic.gatewayId }, status.outboxDepth);
    if (status.state === 'offline') await supervision.gatewayDown(topic.siteId, topic.gatewayId, at, 'last will or clean stop');
    else await supervision.gatewayUp(topic.siteId, topic.gatewayId);
    const changed: string[] = await reportGatewayFaults(deps, topic, status.faults, at);
    deps.onDeviceStatus({ gatewayId: topic.gatewayId, deviceId: null, state: status.state, lastSeen: at, battery: null });
    for (const dev of status.devices ?? []) {
      const known = await lookups.getDevice(dev.device);
      if (!known || known.gatewayId !== topic.gatewayId) continue;
      if (dev.lastSeen) supervision.heardDevice(dev.device, dev.lastSeen);
      if (dev.battery !== undefined) {
        await deps.registry.touchDevice(dev.device, dev.lastSeen ?? at, dev.battery);
        const requests = evaluateBattery({ metric: 'battery', value: dev.battery }, lowBattery);
        if (requests.length > 0) {
          changed.push(
            ...(await db.transaction().execute((tx) =>
              engine.apply(
                tx,
                requests,
                {
                  siteId: topic.siteId,
                  gatewayId: topic.gatewayId,
                  deviceId: known.id,
                  residentId: known.residentId,
                  room: known.room,
                  unregistered: false,
                  at,
                },
                `gateway:${topic.gatewayId}`,
              ),
            )),
          );
        }
      }
      deps.onDeviceStatus({
        gatewayId: topic.gatewayId,
        deviceId: dev.device,
        state: dev.fault ? 'fault' : 'online',
        lastSeen: dev.lastSeen ?? null,
        battery: dev.battery ?? null,
      });
    }
    await engine.publish(changed);
  };
}

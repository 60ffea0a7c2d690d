// A device's health for overview tiles, merged from the registry (GET /devices: lastSeen, battery),
// the live feed (device_status) and open technical alarms (device_offline, device_fault).
import type { Device } from '../../../protocol/api.ts';
import type { Alarm } from '../../../protocol/schemas.ts';
import type { StatusEntry } from './feed-state.ts';

/** What the tiles read of a device as GET /devices answers it (protocol/api.ts). */
export type RegistryDevice = Pick<Device, 'id' | 'gatewayId' | 'kind' | 'residentId' | 'room' | 'lastSeen' | 'battery'>;

export type DeviceCondition = 'online' | 'offline' | 'fault' | 'unknown';

export interface DeviceHealth {
  id: string;
  kind: string;
  condition: DeviceCondition;
  lastSeen: string | null;
  battery: number | null;
  lowBattery: boolean;
}

export const LOW_BATTERY_PCT = 20;

const later = (a: string | null, b: string | null) => (a === null ? b : b === null ? a : Date.parse(a) >= Date.parse(b) ? a : b);

export function deviceHealth(device: RegistryDevice, live: StatusEntry | undefined, openAlarms: Iterable<Alarm>): DeviceHealth {
  let offline = false;
  let fault = false;
  let lowBatteryAlarm = false;
  for (const a of openAlarms) {
    if (a.deviceId !== device.id) continue;
    if (a.type === 'device_offline') offline = true;
    if (a.type === 'device_fault') fault = true;
    if (a.type === 'low_battery') lowBatteryAlarm = true;
  }
  const lastSeen = later(device.lastSeen, live?.lastSeen ?? null);
  const battery = live?.battery ?? device.battery;
  // Seen at least once means online, unless an open technical alarm or the live status says otherwise.
  let condition: DeviceCondition = lastSeen === null ? 'unknown' : 'online';
  if (live?.state === 'fault' || fault) condition = 'fault';
  if (offline || live?.state === 'offline') condition = 'offline';
  return {
    id: device.id,
    kind: device.kind,
    condition,
    lastSeen,
    battery,
    lowBattery: lowBatteryAlarm || (battery !== null && battery < LOW_BATTERY_PCT),
  };
}

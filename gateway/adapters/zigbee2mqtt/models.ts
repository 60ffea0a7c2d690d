// Zigbee device models as data (as in zigbee-herdsman-converters): which payload fields of a
// Zigbee2MQTT state message become which canonical events and readings. Adding a model is adding
// an entry here; no adapter code changes. Field meanings: devices.md section 4.
import type { EventType } from '../../../protocol/index.ts';

export interface ModelDefinition {
  description: string;
  /** `action` values that mean an emergency call. */
  callActions?: string[];
  /** Field whose boolean value maps to an event on change, e.g. contact false -> door_open. */
  contact?: { field: string; whenFalse: EventType; whenTrue: EventType };
  /** Field whose string value maps to events. */
  statusEvents?: { field: string; values: Record<string, EventType> };
  /** Boolean fields reported as the `presence` reading (0/1). */
  presenceFields?: string[];
  /**
   * Boolean fields that mean a danger when true (`smoke`, `gas`, `water_leak` in the exposes of
   * zigbee-herdsman-converters): an event when one turns true. Sensors repeat their state, so a
   * repeat of `true` is not a new event; `false` re-arms it.
   */
  dangerFields?: Partial<Record<string, EventType>>;
}

const SMOKE = { smoke: 'smoke' } as const;
const GAS = { gas: 'gas' } as const;
const WATER = { water_leak: 'water_leak' } as const;

export const MODELS: Record<string, ModelDefinition> = {
  TS0215A_sos: { description: 'Tuya SOS button', callActions: ['emergency'] },
  HS1EB: { description: 'HEIMAN emergency button', callActions: ['single'] },
  // A general-purpose button: no action means "call" until the installer says which one does.
  WXKG11LM: { description: 'Aqara wireless button', callActions: [] },
  MCCGQ11LM: {
    description: 'Aqara door and window contact',
    contact: { field: 'contact', whenFalse: 'door_open', whenTrue: 'door_close' },
  },
  'MIR-HE200-TY_fall': {
    description: 'Tuya mmWave fall sensor',
    statusEvents: { field: 'fall_down_status', values: { fall: 'fall' } },
    presenceFields: ['presence', 'occupancy'],
  },
  RTCZCGQ11LM: { description: 'Aqara FP1 presence sensor', presenceFields: ['presence'] },
  // Home safety (models and exposes from zigbee-herdsman-converters src/devices/heiman.ts, lumi.ts,
  // tuya.ts). Each also reports `battery` and/or `tamper`, handled below like every model's.
  'HS3SA/HS1SA': { description: 'HEIMAN smart smoke alarm', dangerFields: SMOKE },
  'HS1SA-E': { description: 'HEIMAN smart smoke alarm', dangerFields: SMOKE },
  HS1CG: { description: 'HEIMAN combustible gas sensor', dangerFields: GAS },
  HS3CG: { description: 'HEIMAN combustible gas sensor', dangerFields: GAS },
  'HS1WL/HS3WL': { description: 'HEIMAN water leakage sensor', dangerFields: WATER },
  'JTYJ-GD-01LM/BW': { description: 'Xiaomi/Aqara Mijia Honeywell smoke detector', dangerFields: SMOKE },
  'JTQJ-BF-01LM/BW': { description: 'Xiaomi/Aqara Mijia Honeywell gas leak detector', dangerFields: GAS },
  'JT-BZ-01AQ/A': { description: 'Aqara smart natural gas detector', dangerFields: GAS },
  SJCGQ11LM: { description: 'Aqara water leak sensor', dangerFields: WATER },
  SJCGQ12LM: { description: 'Aqara water leak sensor T1', dangerFields: WATER },
  TS0205: { description: 'Tuya smoke sensor', dangerFields: SMOKE },
  TS0204: { description: 'Tuya gas sensor', dangerFields: GAS },
  TS0207_water_leak_detector: { description: 'Tuya water leak detector', dangerFields: WATER },
};

export interface DeviceConfig {
  device: string;
  model: string;
  callActions?: string[];
  lowBatteryPercent?: number;
}

export type Mapped =
  | { kind: 'event'; type: EventType; data?: Record<string, unknown> }
  | { kind: 'reading'; metric: 'battery' | 'presence'; value: number };

/** Per-device memory a mapping needs: last contact state, whether low battery was reported. */
export interface DeviceMemory {
  contact?: boolean;
  lowBatteryReported?: boolean;
  lastStatus?: string;
  /** Danger fields last seen true (smoke, gas, water_leak). */
  danger?: Record<string, boolean>;
}

const HYSTERESIS = 10;

/** Maps one Zigbee2MQTT state message for a configured device. Pure apart from `memory`. */
export function mapState(payload: Record<string, unknown>, cfg: DeviceConfig, memory: DeviceMemory): Mapped[] {
  const model = MODELS[cfg.model];
  const out: Mapped[] = [];
  const callActions = cfg.callActions ?? model?.callActions ?? [];
  if (typeof payload.action === 'string' && callActions.includes(payload.action)) {
    out.push({ kind: 'event', type: 'call', data: { action: payload.action } });
  }
  if (model?.contact && typeof payload[model.contact.field] === 'boolean') {
    const value = payload[model.contact.field] as boolean;
    if (memory.contact !== value) out.push({ kind: 'event', type: value ? model.contact.whenTrue : model.contact.whenFalse });
    memory.contact = value;
  }
  if (model?.statusEvents) {
    const value = payload[model.statusEvents.field];
    if (typeof value === 'string') {
      const type = model.statusEvents.values[value];
      // A sensor repeats its state; only a change into an alarm state is an event.
      if (type && memory.lastStatus !== value) out.push({ kind: 'event', type, data: { [model.statusEvents.field]: value } });
      memory.lastStatus = value;
    }
  }
  for (const [field, type] of Object.entries(model?.dangerFields ?? {})) {
    const value = payload[field];
    if (typeof value !== 'boolean' || !type) continue;
    memory.danger ??= {};
    if (value && !memory.danger[field]) {
      // A self-test (the sensor's `test` expose) still raises the alarm, marked, so staff see the test arrive.
      out.push({ kind: 'event', type, data: payload.test === true ? { [field]: true, selfTest: true } : { [field]: true } });
    }
    memory.danger[field] = value;
  }
  for (const field of model?.presenceFields ?? []) {
    if (typeof payload[field] === 'boolean') {
      out.push({ kind: 'reading', metric: 'presence', value: payload[field] ? 1 : 0 });
      break;
    }
  }
  if (payload.tamper === true) out.push({ kind: 'event', type: 'tamper' });
  const battery = payload.battery;
  if (typeof battery === 'number' && Number.isFinite(battery) && battery >= 0 && battery <= 100) {
    out.push({ kind: 'reading', metric: 'battery', value: battery });
    const threshold = cfg.lowBatteryPercent ?? 20;
    if (battery < threshold && !memory.lowBatteryReported) {
      memory.lowBatteryReported = true;
      out.push({ kind: 'event', type: 'low_battery', data: { battery } });
    } else if (battery >= threshold + HYSTERESIS) {
      memory.lowBatteryReported = false;
    }
  }
  return out;
}

/** Availability comes as `{"state":"online"}` (Zigbee2MQTT 2.x) or plain `online` (1.x). */
export function parseAvailability(raw: string): 'online' | 'offline' | null {
  const text = raw.trim();
  if (text === 'online' || text === 'offline') return text;
  try {
    const v = JSON.parse(text) as { state?: unknown };
    return v.state === 'online' || v.state === 'offline' ? v.state : null;
  } catch {
    return null;
  }
}

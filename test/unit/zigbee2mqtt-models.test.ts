// Zigbee2MQTT model mappings on the payloads of devices.md section 4.
import { describe, expect, it } from 'vitest';
import { type DeviceMemory, mapState, parseAvailability } from '../../gateway/adapters/zigbee2mqtt/models.ts';

const map = (payload: Record<string, unknown>, model: string, extra: object = {}, memory: DeviceMemory = {}) =>
  mapState(payload, { device: 'd', model, ...extra }, memory);

describe('Zigbee2MQTT models', () => {
  it('a TS0215A_sos "emergency" action is a call, with battery as a reading', () => {
    expect(map({ action: 'emergency', battery: 100, linkquality: 87 }, 'TS0215A_sos')).toEqual([
      { kind: 'event', type: 'call', data: { action: 'emergency' } },
      { kind: 'reading', metric: 'battery', value: 100 },
    ]);
  });

  it('HS1EB calls on "single" but not on "double", unless the device config says so', () => {
    expect(map({ action: 'single' }, 'HS1EB')).toEqual([{ kind: 'event', type: 'call', data: { action: 'single' } }]);
    expect(map({ action: 'double' }, 'HS1EB')).toEqual([]);
    expect(map({ action: 'double' }, 'HS1EB', { callActions: ['double'] })).toEqual([
      { kind: 'event', type: 'call', data: { action: 'double' } },
    ]);
  });

  it('a door contact raises door_open and door_close on change only', () => {
    const memory: DeviceMemory = {};
    expect(map({ contact: false }, 'MCCGQ11LM', {}, memory)).toEqual([{ kind: 'event', type: 'door_open' }]);
    expect(map({ contact: false, battery: 90 }, 'MCCGQ11LM', {}, memory)).toEqual([{ kind: 'reading', metric: 'battery', value: 90 }]);
    expect(map({ contact: true }, 'MCCGQ11LM', {}, memory)).toEqual([{ kind: 'event', type: 'door_close' }]);
  });

  it('a fall sensor raises fall when its status turns to "fall", and reports presence', () => {
    const memory: DeviceMemory = {};
    expect(map({ fall_down_status: 'none', presence: true }, 'MIR-HE200-TY_fall', {}, memory)).toEqual([
      { kind: 'reading', metric: 'presence', value: 1 },
    ]);
    expect(map({ fall_down_status: 'maybe_fall' }, 'MIR-HE200-TY_fall', {}, memory)).toEqual([]);
    expect(map({ fall_down_status: 'fall' }, 'MIR-HE200-TY_fall', {}, memory)).toEqual([
      { kind: 'event', type: 'fall', data: { fall_down_status: 'fall' } },
    ]);
    expect(map({ fall_down_status: 'fall' }, 'MIR-HE200-TY_fall', {}, memory)).toEqual([]);
  });

  it('low battery is reported once below the threshold and re-armed 10 points above it', () => {
    const memory: DeviceMemory = {};
    const events = (b: number) => map({ battery: b }, 'TS0215A_sos', { lowBatteryPercent: 25 }, memory).filter((m) => m.kind === 'event');
    expect(events(30)).toEqual([]);
    expect(events(24)).toEqual([{ kind: 'event', type: 'low_battery', data: { battery: 24 } }]);
    expect(events(20)).toEqual([]);
    expect(events(30)).toEqual([]);
    expect(events(35)).toEqual([]);
    expect(events(10)).toHaveLength(1);
  });

  it('tamper is an event; garbage values map to nothing', () => {
    expect(map({ tamper: true }, 'MCCGQ11LM')).toEqual([{ kind: 'event', type: 'tamper' }]);
    expect(map({ action: 42, contact: 'open', battery: 'full' }, 'TS0215A_sos')).toEqual([]);
  });

  it('smoke, gas and water-leak sensors of Heiman, Aqara and Tuya raise their own event when the field turns true', () => {
    const cases: Array<[string, string, string]> = [
      ['HS3SA/HS1SA', 'smoke', 'smoke'],
      ['JTYJ-GD-01LM/BW', 'smoke', 'smoke'],
      ['TS0205', 'smoke', 'smoke'],
      ['HS1CG', 'gas', 'gas'],
      ['JT-BZ-01AQ/A', 'gas', 'gas'],
      ['TS0204', 'gas', 'gas'],
      ['HS1WL/HS3WL', 'water_leak', 'water_leak'],
      ['SJCGQ11LM', 'water_leak', 'water_leak'],
      ['TS0207_water_leak_detector', 'water_leak', 'water_leak'],
    ];
    for (const [model, field, type] of cases) {
      const memory: DeviceMemory = {};
      expect(map({ [field]: false, battery: 90 }, model, {}, memory), model).toEqual([{ kind: 'reading', metric: 'battery', value: 90 }]);
      expect(map({ [field]: true, linkquality: 60 }, model, {}, memory), model).toEqual([{ kind: 'event', type, data: { [field]: true } }]);
      // The sensor repeats its state: the same danger is not a new event until it has cleared.
      expect(map({ [field]: true }, model, {}, memory), model).toEqual([]);
      expect(map({ [field]: false }, model, {}, memory), model).toEqual([]);
      expect(map({ [field]: true }, model, {}, memory), model).toHaveLength(1);
    }
  });

  it('a safety sensor that starts in alarm raises at once; tamper and a self-test are reported; other fields do nothing', () => {
    expect(map({ smoke: true, battery_low: false, tamper: true }, 'HS3SA/HS1SA')).toEqual([
      { kind: 'event', type: 'smoke', data: { smoke: true } },
      { kind: 'event', type: 'tamper' },
    ]);
    expect(map({ smoke: true, test: true }, 'JTYJ-GD-01LM/BW')).toEqual([
      { kind: 'event', type: 'smoke', data: { smoke: true, selfTest: true } },
    ]);
    // A smoke field on a gas sensor, or a string where a boolean belongs, is nothing.
    expect(map({ smoke: true, gas: 'yes' }, 'HS1CG')).toEqual([]);
  });

  it('availability is read in both the 1.x and 2.x forms', () => {
    expect(parseAvailability('online')).toBe('online');
    expect(parseAvailability('{"state":"offline"}')).toBe('offline');
    expect(parseAvailability('{"state":"weird"}')).toBeNull();
    expect(parseAvailability('garbage{')).toBeNull();
  });
});

// The alarm rules that watch telemetry and presence (server/alarms/), as pure functions, and the
// telemetry worker's reader that applies them to a batch off the wire.
import { describe, expect, it } from 'vitest';
import type { DeviceEvent } from '../../protocol/index.ts';
import { evaluateCaregiverPresence } from '../../server/alarms/caregiver-presence.ts';
import { evaluateBattery } from '../../server/alarms/low-battery.ts';
import { createVitalsTracker, DEFAULT_VITAL_LIMITS, evaluateVital, type VitalMode, vitalMode } from '../../server/alarms/vitals.ts';
import { createTelemetryReader } from '../../server/ingest/telemetry-reader.ts';
import type { Device, Resident } from '../../server/storage/registry.ts';

const spo2 = { min: 90, sustainSeconds: 60 };
const reading = (value: number, s: number, mode: VitalMode = 'continuous') => ({
  metric: 'spo2',
  value,
  tsMs: s * 1000,
  limit: spo2,
  mode,
});

describe('vitals rule', () => {
  it('a reading inside the limits requests nothing and ends an open breach', () => {
    expect(evaluateVital(reading(95, 1), { breachSince: 0 })).toEqual({ state: {}, requests: [] });
  });

  it('a breach shorter than the sustain time requests nothing but is remembered', () => {
    expect(evaluateVital(reading(88, 30), {})).toEqual({ state: { breachSince: 30_000, fineSince: undefined }, requests: [] });
  });

  it('a sustained breach requests a vitals alarm, high when far outside the limit', () => {
    const near = evaluateVital(reading(88, 60), { breachSince: 0 });
    expect(near.requests).toEqual([
      {
        kind: 'raise',
        type: 'vitals',
        priority: 'medium',
        detail: { metric: 'spo2', value: 88, limit: 90, direction: 'below', mode: 'continuous' },
      },
    ]);
    const far = evaluateVital(reading(70, 60), { breachSince: 0 });
    expect(far.requests[0]).toMatchObject({ priority: 'high' });
  });

  it('a spot reading outside the limits is judged alone: one reading raises at once', () => {
    expect(evaluateVital(reading(88, 0, 'spot'), {}).requests).toMatchObject([{ kind: 'raise', type: 'vitals', priority: 'medium' }]);
    // The same reading from a stream waits for the sustain time.
    expect(evaluateVital(reading(88, 0), {}).requests).toEqual([]);
  });

  it('a metric without a limit is not judged', () => {
    expect(evaluateVital({ metric: 'rssi', value: -120, tsMs: 0, limit: undefined, mode: 'spot' }, {}).requests).toEqual([]);
  });

  it('every vital sign stored has a default limit; glucose and diastolic pressure too', () => {
    for (const m of ['heart_rate', 'resp_rate', 'spo2', 'bp_systolic', 'bp_diastolic', 'temperature', 'glucose']) {
      expect(DEFAULT_VITAL_LIMITS[m], m).toBeDefined();
    }
    const glucose = { metric: 'glucose', tsMs: 0, limit: DEFAULT_VITAL_LIMITS.glucose, mode: 'spot' as const };
    expect(evaluateVital({ ...glucose, value: 2.8 }, {}).requests).toMatchObject([{ priority: 'high', detail: { direction: 'below' } }]);
    expect(evaluateVital({ ...glucose, value: 6 }, {}).requests).toEqual([]);
    const dia = { metric: 'bp_diastolic', tsMs: 0, limit: DEFAULT_VITAL_LIMITS.bp_diastolic, mode: 'spot' as const };
    expect(evaluateVital({ ...dia, value: 125 }, {}).requests).toMatchObject([{ priority: 'high', detail: { direction: 'above' } }]);
  });

  it('spot or continuous per metric and per source', () => {
    // A finger clip or a cuff (vitals_monitor) taken once: spot; a radar: continuous.
    expect(vitalMode('spo2', 'vitals_monitor', false, undefined)).toBe('spot');
    expect(vitalMode('glucose', 'gps_watch', false, undefined)).toBe('spot');
    expect(vitalMode('spo2', 'bed_sensor', false, undefined)).toBe('continuous');
    // A clip that streams, or a resident's own sustain time: continuous.
    expect(vitalMode('spo2', 'vitals_monitor', true, undefined)).toBe('continuous');
    expect(vitalMode('temperature', 'vitals_monitor', false, { max: 38, sustainSeconds: 120 })).toBe('continuous');
    // Heart and breathing rates stream from every source.
    expect(vitalMode('heart_rate', 'vitals_monitor', false, undefined)).toBe('continuous');
  });

  it('a vitals alarm clears once readings are back inside the limits for the set time, not before', () => {
    const t = createVitalsTracker();
    expect(t.observe('clip', { ...reading(85, 0, 'spot'), clearAfterSeconds: 300 })).toHaveLength(1);
    expect(t.observe('clip', { ...reading(96, 60, 'spot'), clearAfterSeconds: 300 })).toEqual([]);
    expect(t.observe('clip', { ...reading(96, 359, 'spot'), clearAfterSeconds: 300 })).toEqual([]);
    expect(t.observe('clip', { ...reading(96, 360, 'spot'), clearAfterSeconds: 300 })).toMatchObject([
      { kind: 'clear', type: 'vitals', onlyIfUnacknowledged: true },
    ]);
    // Cleared once: the next good reading asks for nothing.
    expect(t.observe('clip', { ...reading(96, 400, 'spot'), clearAfterSeconds: 300 })).toEqual([]);
  });

  it('a relapse before the clear time restarts it; another metric still out keeps the alarm', () => {
    const t = createVitalsTracker();
    const hr = (value: number, s: number) => ({
      metric: 'heart_rate',
      value,
      tsMs: s * 1000,
      limit: { max: 100, sustainSeconds: 0 },
      clearAfterSeconds: 60,
    });
    expect(t.observe('band', { ...reading(85, 0, 'spot'), clearAfterSeconds: 60 })).toHaveLength(1);
    expect(t.observe('band', hr(150, 0))).toHaveLength(1);
    expect(t.observe('band', { ...reading(96, 10, 'spot'), clearAfterSeconds: 60 })).toEqual([]);
    expect(t.observe('band', { ...reading(85, 30, 'spot'), clearAfterSeconds: 60 })).toHaveLength(1);
    expect(t.observe('band', { ...reading(96, 40, 'spot'), clearAfterSeconds: 60 })).toEqual([]);
    // SpO2 fine for 60 s, but the heart rate is still high: the alarm stays.
    expect(t.observe('band', { ...reading(96, 100, 'spot'), clearAfterSeconds: 60 })).toEqual([]);
    expect(t.observe('band', hr(80, 100))).toEqual([]);
    expect(t.observe('band', hr(80, 160))).toMatchObject([{ kind: 'clear' }]);
  });

  it('confirmDelaySeconds.vitals holds a medium alarm; readings back in range before it ends cancel it', () => {
    const t = createVitalsTracker();
    const held = t.observe('clip', { ...reading(88, 0, 'spot'), confirmDelaySeconds: 120 });
    expect(held).toMatchObject([{ kind: 'raise', priority: 'medium', confirmAfterMs: 120_000 }]);
    expect(t.observe('clip', { ...reading(96, 30, 'spot'), confirmDelaySeconds: 120 })).toMatchObject([{ kind: 'clear', type: 'vitals' }]);
    // A high-priority reading is never held.
    expect(t.observe('clip', { ...reading(70, 40, 'spot'), confirmDelaySeconds: 120 })[0]).not.toHaveProperty('confirmAfterMs');
  });

  it('the tracker keeps breaches per device: a brief dip between does not raise', () => {
    const t = createVitalsTracker();
    const at = (s: number) => s * 1000;
    const c = 'continuous' as const;
    expect(t.observe('r1', { metric: 'spo2', value: 86, tsMs: at(0), limit: spo2, mode: c })).toEqual([]);
    expect(t.observe('r1', { metric: 'spo2', value: 95, tsMs: at(30), limit: spo2, mode: c })).toEqual([]);
    expect(t.observe('r1', { metric: 'spo2', value: 86, tsMs: at(40), limit: spo2, mode: c })).toEqual([]);
    expect(t.observe('r2', { metric: 'spo2', value: 86, tsMs: at(0), limit: spo2, mode: c })).toEqual([]);
    expect(t.observe('r1', { metric: 'spo2', value: 86, tsMs: at(99), limit: spo2, mode: c })).toEqual([]);
    expect(t.observe('r1', { metric: 'spo2', value: 86, tsMs: at(100), limit: spo2, mode: c })).toHaveLength(1);
    expect(t.observe('r2', { metric: 'spo2', value: 86, tsMs: at(60), limit: spo2, mode: c })).toHaveLength(1);
  });

  it('a device whose readings of a metric come less than two minutes apart streams it', () => {
    const t = createVitalsTracker();
    expect(t.streaming('clip', 'spo2', 0)).toBe(false);
    expect(t.streaming('clip', 'spo2', 60_000)).toBe(true);
    expect(t.streaming('clip', 'spo2', 600_000)).toBe(false);
    expect(t.streaming('clip', 'glucose', 600_000)).toBe(false);
  });
});

describe('low battery rule', () => {
  it('a battery reading under the threshold requests a low-priority low_battery alarm', () => {
    expect(evaluateBattery({ metric: 'battery', value: 12 }, 20)).toEqual([
      { kind: 'raise', type: 'low_battery', priority: 'low', detail: { battery: 12 } },
    ]);
  });
  it('at or over the threshold, or another metric, requests nothing', () => {
    expect(evaluateBattery({ metric: 'battery', value: 20 }, 20)).toEqual([]);
    expect(evaluateBattery({ metric: 'spo2', value: 5 }, 20)).toEqual([]);
  });
});

describe('caregiver presence rule', () => {
  const event = (data?: Record<string, unknown>, type: DeviceEvent['type'] = 'presence'): DeviceEvent => ({
    v: 1,
    id: 'e1',
    seq: 1,
    ts: '2026-12-02T01:00:00.000Z',
    device: 'tag-1',
    type,
    data,
  });
  it("a caregiver's tag at a resident asks for their alarms to be marked on site", () => {
    expect(evaluateCaregiverPresence(event({ caregiver: 'carer-li' }), 'res-1')).toEqual({
      kind: 'on_site',
      residentId: 'res-1',
      by: 'carer-li',
    });
    expect(evaluateCaregiverPresence(event({ staff: true }), 'res-1')).toMatchObject({ by: 'presence:tag-1' });
  });
  it('presence without staff, another event, or no resident asks for nothing', () => {
    expect(evaluateCaregiverPresence(event({}), 'res-1')).toBeNull();
    expect(evaluateCaregiverPresence(event({ caregiver: 'x' }, 'call'), 'res-1')).toBeNull();
    expect(evaluateCaregiverPresence(event({ caregiver: 'x' }), null)).toBeNull();
  });
});

describe('telemetry reader (runs in the telemetry worker)', () => {
  const device = (id: string, gatewayId: string, residentId: string | null): Device => ({
    id,
    gatewayId,
    kind: 'vitals_monitor',
    residentId,
    room: '203',
    lastSeen: null,
    battery: null,
    createdAt: '2026-01-01T00:00:00.000Z',
    offlineSince: null,
    supervisionSeconds: null,
  });
  const devices = new Map([
    ['band-1', device('band-1', 'gw-a', 'res-1')],
    ['band-other', device('band-other', 'gw-b', 'res-2')],
  ]);
  const resident: Resident = {
    id: 'res-1',
    siteId: 'site',
    name: 'x',
    room: '203',
    bed: null,
    settings: { vitals: { heart_rate: { max: 100, sustainSeconds: 0 } } },
    createdAt: '',
  };
  const reader = createTelemetryReader(
    { getDevice: async (id) => devices.get(id), getResident: async (id) => (id === 'res-1' ? resident : undefined) },
    20,
  );
  const message = (points: unknown[]) => ({
    siteId: 'site',
    gatewayId: 'gw-a',
    topic: 'care/v1/site/gw-a/telemetry',
    payload: new TextEncoder().encode(JSON.stringify({ v: 1, ts: '2026-12-02T01:00:00.000Z', points })),
  });
  const p = (device: string, metric: string, value: number, s = 0) => ({
    device,
    metric,
    value,
    ts: new Date(Date.parse('2026-12-02T01:00:00.000Z') + s * 1000).toISOString(),
  });

  it("stores readings, refuses another gateway's device, and reports what the alarm engine needs", async () => {
    const { rows, findings } = await reader.readChunk([
      message([p('band-1', 'heart_rate', 120, 0), p('band-1', 'heart_rate', 125, 1), p('band-1', 'battery', 10, 1)]),
      message([p('band-other', 'heart_rate', 70), p('unknown-1', 'heart_rate', 70)]),
    ]);
    expect(rows.map((r) => r.device_id)).toEqual(['band-1', 'band-1', 'band-1', 'unknown-1']);
    expect(rows[0]).toMatchObject({ site_id: 'site', resident_id: 'res-1', metric: 'heart_rate', value: 120 });
    expect(findings.points).toBe(4);
    expect(findings.forged).toEqual([{ gatewayId: 'gw-a', deviceId: 'band-other' }]);
    // The resident's own limit (max 100, at once), one request per cause in a chunk.
    expect(findings.alarms.map((a) => [a.request.type, a.deviceId, a.residentId])).toEqual([
      ['vitals', 'band-1', 'res-1'],
      ['low_battery', 'band-1', 'res-1'],
    ]);
    expect(findings.heard).toEqual([['band-1', p('band-1', 'x', 0, 1).ts]]);
  });

  it("a single SpO2 from a finger clip raises at once; a radar's SpO2 waits for the sustain time", async () => {
    devices.set('clip-1', device('clip-1', 'gw-a', 'res-1'));
    devices.set('radar-1', { ...device('radar-1', 'gw-a', 'res-1'), kind: 'bed_sensor' });
    const { findings } = await reader.readChunk([message([p('clip-1', 'spo2', 87, 0), p('radar-1', 'spo2', 87, 0)])]);
    expect(findings.alarms.map((a) => [a.deviceId, a.request.kind, a.request.type])).toEqual([['clip-1', 'raise', 'vitals']]);
    // The resident's heart-rate limit sets only max 100 and sustain: the default minimum 40 still holds.
    const low = await reader.readChunk([message([p('clip-1', 'heart_rate', 30, 0)])]);
    expect(low.findings.alarms.map((a) => a.request.type)).toEqual(['vitals']);
  });

  it("heart-rate ranges for the sleep report keep their own time: last night's readings are not tonight's", async () => {
    devices.set('radar-9', { ...device('radar-9', 'gw-a', 'res-1'), kind: 'bed_sensor' });
    // Last night's readings (a replay or a mattress catching up) in one chunk with tonight's.
    const lastNight = [p('radar-9', 'heart_rate', 58, -20 * 3600), p('radar-9', 'heart_rate', 62, -20 * 3600 + 60)];
    const { findings } = await reader.readChunk([
      message([...lastNight, p('radar-9', 'heart_rate', 75, 0), p('radar-9', 'heart_rate', 71, 5)]),
    ]);
    const hr = findings.sleep.filter((x) => x.metric === 'heart_rate').map((x) => [x.at, x.min, x.max]);
    expect(hr).toEqual([
      [lastNight[1]?.ts, 58, 62],
      [p('radar-9', 'x', 0, 5).ts, 71, 75],
    ]);
  });

  it('a payload that fails its schema is reported, and the other messages of the chunk are kept', async () => {
    const bad = { ...message([]), payload: new TextEncoder().encode('{"v":1,"points":"no"}') };
    const { rows, findings } = await reader.readChunk([bad, message([p('unknown-2', 'spo2', 97)])]);
    expect(findings.rejected).toHaveLength(1);
    expect(findings.rejected[0]).toMatchObject({ topic: 'care/v1/site/gw-a/telemetry', reason: 'schema' });
    expect(rows).toHaveLength(1);
  });
});

// The alarm rules that watch telemetry and presence (server/alarms/), as pure functions, and the
// telemetry worker's reader that applies them to a batch off the wire.
import { describe, expect, it } from 'vitest';
import type { DeviceEvent } from '../../protocol/index.ts';
import { evaluateCaregiverPresence } from '../../server/alarms/caregiver-presence.ts';
import { evaluateBattery } from '../../server/alarms/low-battery.ts';
import { createVitalsTracker, evaluateVital } from '../../server/alarms/vitals.ts';
import { createTelemetryReader } from '../../server/ingest/telemetry-reader.ts';
import type { Device, Resident } from '../../server/storage/registry.ts';

const spo2 = { min: 90, sustainSeconds: 60 };

describe('vitals rule', () => {
  it('a reading inside the limits requests nothing and ends an open breach', () => {
    expect(evaluateVital({ metric: 'spo2', value: 95, tsMs: 1000, limit: spo2, breachSince: 0 })).toEqual({
      breachSince: undefined,
      requests: [],
    });
  });

  it('a breach shorter than the sustain time requests nothing but is remembered', () => {
    expect(evaluateVital({ metric: 'spo2', value: 88, tsMs: 30_000, limit: spo2, breachSince: undefined })).toEqual({
      breachSince: 30_000,
      requests: [],
    });
  });

  it('a sustained breach requests a vitals alarm, high when far outside the limit', () => {
    const near = evaluateVital({ metric: 'spo2', value: 88, tsMs: 60_000, limit: spo2, breachSince: 0 });
    expect(near.requests).toEqual([
      { kind: 'raise', type: 'vitals', priority: 'medium', detail: { metric: 'spo2', value: 88, limit: 90, direction: 'below' } },
    ]);
    const far = evaluateVital({ metric: 'spo2', value: 70, tsMs: 60_000, limit: spo2, breachSince: 0 });
    expect(far.requests[0]).toMatchObject({ priority: 'high' });
  });

  it('a metric without a limit is not judged', () => {
    expect(evaluateVital({ metric: 'rssi', value: -120, tsMs: 0, limit: undefined, breachSince: undefined }).requests).toEqual([]);
  });

  it('the tracker keeps breaches per resident: a brief dip between does not raise', () => {
    const t = createVitalsTracker();
    const at = (s: number) => s * 1000;
    expect(t.observe('r1', { metric: 'spo2', value: 86, tsMs: at(0), limit: spo2 })).toEqual([]);
    expect(t.observe('r1', { metric: 'spo2', value: 95, tsMs: at(30), limit: spo2 })).toEqual([]);
    expect(t.observe('r1', { metric: 'spo2', value: 86, tsMs: at(40), limit: spo2 })).toEqual([]);
    expect(t.observe('r2', { metric: 'spo2', value: 86, tsMs: at(0), limit: spo2 })).toEqual([]);
    expect(t.observe('r1', { metric: 'spo2', value: 86, tsMs: at(99), limit: spo2 })).toEqual([]);
    expect(t.observe('r1', { metric: 'spo2', value: 86, tsMs: at(100), limit: spo2 })).toHaveLength(1);
    expect(t.observe('r2', { metric: 'spo2', value: 86, tsMs: at(60), limit: spo2 })).toHaveLength(1);
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

  it('a payload that fails its schema is reported, and the other messages of the chunk are kept', async () => {
    const bad = { ...message([]), payload: new TextEncoder().encode('{"v":1,"points":"no"}') };
    const { rows, findings } = await reader.readChunk([bad, message([p('unknown-2', 'spo2', 97)])]);
    expect(findings.rejected).toHaveLength(1);
    expect(findings.rejected[0]).toMatchObject({ topic: 'care/v1/site/gw-a/telemetry', reason: 'schema' });
    expect(rows).toHaveLength(1);
  });
});

// View helpers: hash routes, telemetry series for charts, device health on overview tiles.
import { describe, expect, it } from 'vitest';
import { deviceHealth, type RegistryDevice } from '../../dashboard/src/lib/health.ts';
import { parseRoute, routeHash } from '../../dashboard/src/lib/route.ts';
import { groupSeries, rangeWindow } from '../../dashboard/src/lib/series.ts';
import { alarm } from './dashboard-fixtures.ts';

describe('dashboard routes', () => {
  it('parses and builds hash routes, defaulting to the board', () => {
    expect(parseRoute('')).toEqual({ page: 'board' });
    expect(parseRoute('#/overview')).toEqual({ page: 'overview' });
    expect(parseRoute('#/resident/res%2F1')).toEqual({ page: 'resident', id: 'res/1' });
    expect(parseRoute('#/resident')).toEqual({ page: 'board' });
    expect(routeHash({ page: 'resident', id: 'res-1' })).toBe('#/resident/res-1');
    expect(parseRoute(routeHash({ page: 'admin' }))).toEqual({ page: 'admin' });
    // The centre's pages (issue 15): #/centre is the board, then its sections with an area.
    expect(parseRoute('#/centre')).toEqual({ page: 'centre' });
    expect(parseRoute('#/centre/homes/area%2F1')).toEqual({ page: 'centre', section: 'homes', id: 'area/1' });
    expect(routeHash({ page: 'admin', section: 'homes', id: 'area-1' })).toBe('#/admin/homes/area-1');
    expect(parseRoute(routeHash({ page: 'centre', section: 'areas' }))).toEqual({ page: 'centre', section: 'areas' });
  });
});

describe('dashboard telemetry series', () => {
  it('groups points by metric in time order, x in seconds', () => {
    const s = groupSeries([
      { ts: '2026-01-01T00:00:10.000Z', metric: 'heart_rate', value: 80, device: 'band' },
      { ts: '2026-01-01T00:00:00.000Z', metric: 'heart_rate', value: 72, device: 'band' },
      { ts: '2026-01-01T00:00:05.000Z', metric: 'spo2', value: 97, device: 'band' },
      { ts: 'garbage', metric: 'spo2', value: 1, device: 'band' },
    ]);
    const t0 = Date.parse('2026-01-01T00:00:00.000Z') / 1000;
    expect(s.get('heart_rate')).toEqual([
      [t0, t0 + 10],
      [72, 80],
    ]);
    expect(s.get('spo2')?.[1]).toEqual([97]);
  });

  it('builds the 1 h / 24 h / 7 d windows ending now', () => {
    const now = Date.parse('2026-01-08T00:00:00.000Z');
    expect(rangeWindow('1h', now)).toEqual({ from: '2026-01-07T23:00:00.000Z', to: '2026-01-08T00:00:00.000Z' });
    expect(rangeWindow('7d', now).from).toBe('2026-01-01T00:00:00.000Z');
  });
});

describe('dashboard device health', () => {
  const dev: RegistryDevice = {
    id: 'btn-203',
    gatewayId: 'gw-1',
    kind: 'call_button',
    residentId: 'res-1',
    room: '203',
    lastSeen: null,
    battery: null,
  };

  it('a device never seen is unknown; seen is online with the newest time and battery', () => {
    expect(deviceHealth(dev, undefined, []).condition).toBe('unknown');
    const h = deviceHealth(
      { ...dev, lastSeen: '2026-01-01T08:00:00.000Z', battery: 90 },
      {
        gatewayId: 'gw-1',
        deviceId: 'btn-203',
        state: 'online',
        lastSeen: '2026-01-01T09:00:00.000Z',
        battery: 15,
      },
      [],
    );
    expect(h).toMatchObject({ condition: 'online', lastSeen: '2026-01-01T09:00:00.000Z', battery: 15, lowBattery: true });
  });

  it('an open device_offline alarm for the device marks it offline', () => {
    const h = deviceHealth({ ...dev, lastSeen: '2026-01-01T08:00:00.000Z' }, undefined, [
      alarm({ id: 'x', type: 'device_offline', priority: 'low', deviceId: 'btn-203' }),
      alarm({ id: 'y', type: 'device_fault', priority: 'low', deviceId: 'other' }),
    ]);
    expect(h.condition).toBe('offline');
  });
});

// The geofence rule (server/alarms/geofence.ts) and the home zone geometry: leaving the home zone
// in the night window asks for a high-priority wander alarm; nothing else about a position does.
import { describe, expect, it } from 'vitest';
import { evaluateGeofence } from '../../server/alarms/geofence.ts';
import { distanceMeters, insideZone } from '../../server/alarms/home-zone.ts';
import { checkSettings } from '../../server/alarms/settings.ts';

const HOME = { lat: 29.56301, lon: 106.551557 };
const NIGHT = { start: '22:00', end: '06:00' };
const tz = 'Asia/Shanghai';
const at23 = '2026-12-02T15:00:00.000Z'; // 23:00 in Shanghai
const at11 = '2026-12-02T03:00:00.000Z'; // 11:00
const pos = (lat: number, lon: number, at: string, valid = true) => ({ latitude: lat, longitude: lon, at, valid });

describe('geofence rule', () => {
  const circle = { ...HOME, radiusMeters: 300 };

  it('outside the circle at night: a high wander alarm with the distance', () => {
    const r = evaluateGeofence({ position: pos(HOME.lat + 0.02, HOME.lon, at23), homeZone: circle, nightWindow: NIGHT, timezone: tz });
    expect(r).toEqual([
      {
        kind: 'raise',
        type: 'wander',
        priority: 'high',
        detail: { source: 'geofence', latitude: HOME.lat + 0.02, longitude: HOME.lon, metersFromHome: 2224 },
      },
    ]);
  });

  it('by day, inside the zone, without a fix or without a zone: nothing', () => {
    const away = HOME.lat + 0.02;
    expect(evaluateGeofence({ position: pos(away, HOME.lon, at11), homeZone: circle, nightWindow: NIGHT, timezone: tz })).toEqual([]);
    expect(
      evaluateGeofence({ position: pos(HOME.lat + 0.002, HOME.lon, at23), homeZone: circle, nightWindow: NIGHT, timezone: tz }),
    ).toEqual([]);
    expect(evaluateGeofence({ position: pos(away, HOME.lon, at23, false), homeZone: circle, nightWindow: NIGHT, timezone: tz })).toEqual(
      [],
    );
    expect(evaluateGeofence({ position: pos(away, HOME.lon, at23), homeZone: null, nightWindow: NIGHT, timezone: tz })).toEqual([]);
  });

  it('a polygon zone: inside is inside, a point past its edge is out', () => {
    const zone = {
      polygon: [
        [29.562, 106.55],
        [29.564, 106.55],
        [29.564, 106.553],
        [29.562, 106.553],
      ] as Array<[number, number]>,
    };
    expect(insideZone(zone, HOME)).toBe(true);
    expect(insideZone(zone, { lat: 29.5645, lon: 106.5515 })).toBe(false);
    expect(evaluateGeofence({ position: pos(29.5645, 106.5515, at23), homeZone: zone, nightWindow: NIGHT, timezone: tz })).toHaveLength(1);
  });

  it('distances are great-circle metres', () => {
    expect(Math.round(distanceMeters(HOME, { lat: HOME.lat + 0.01, lon: HOME.lon }))).toBe(1112);
    expect(distanceMeters(HOME, HOME)).toBe(0);
  });

  it('a resident setting accepts a circle or a polygon and refuses an impossible zone', () => {
    expect(checkSettings.Check({ homeZone: { lat: 29.5, lon: 106.5, radiusMeters: 200 } })).toBe(true);
    expect(
      checkSettings.Check({
        homeZone: {
          polygon: [
            [1, 2],
            [1, 3],
            [2, 3],
          ],
        },
      }),
    ).toBe(true);
    expect(checkSettings.Check({ homeZone: { lat: 95, lon: 106.5, radiusMeters: 200 } })).toBe(false);
    expect(checkSettings.Check({ homeZone: { lat: 29.5, lon: 106.5, radiusMeters: 1 } })).toBe(false);
    expect(
      checkSettings.Check({
        homeZone: {
          polygon: [
            [1, 2],
            [1, 3],
          ],
        },
      }),
    ).toBe(false);
  });
});

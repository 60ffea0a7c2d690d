// Geofence rule (防走失): a GPS position outside the resident's home zone inside their night window
// requests a high-priority `wander` alarm. Pure. Nothing else about a position raises an alarm: no
// home zone, no valid fix, daytime, or inside the zone, and the answer is nothing.
import { distanceMeters, type HomeZone, insideZone } from './home-zone.ts';
import type { AlarmRequest } from './rules.ts';
import { insideWindow } from './settings.ts';

export interface GeofenceInput {
  position: { latitude: number; longitude: number; valid: boolean; at: string };
  /** The resident's home zone; null: none set (no rule). */
  homeZone: HomeZone | null;
  nightWindow: { start: string; end: string };
  timezone: string;
}

export function evaluateGeofence(input: GeofenceInput): AlarmRequest[] {
  const { position, homeZone } = input;
  if (!homeZone || !position.valid) return [];
  const p = { lat: position.latitude, lon: position.longitude };
  if (insideZone(homeZone, p)) return [];
  if (!insideWindow(position.at, input.timezone, input.nightWindow)) return [];
  const centre = 'radiusMeters' in homeZone ? homeZone : null;
  return [
    {
      kind: 'raise',
      type: 'wander',
      priority: 'high',
      detail: {
        source: 'geofence',
        latitude: position.latitude,
        longitude: position.longitude,
        ...(centre ? { metersFromHome: Math.round(distanceMeters(centre, p)) } : {}),
      },
    },
  ];
}

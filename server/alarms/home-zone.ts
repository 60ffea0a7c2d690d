// A resident's home zone (防走失, 电子围栏): a circle (centre and radius) or a polygon of at least
// three corners, in WGS-84 decimal degrees as GPS watches report them. The schema and the geometry;
// the rule that uses it is geofence.ts.
import Type, { type Static } from 'typebox';

const Lat = Type.Number({ minimum: -90, maximum: 90 });
const Lon = Type.Number({ minimum: -180, maximum: 180 });

export const HomeZone = Type.Union([
  Type.Object(
    {
      lat: Lat,
      lon: Lon,
      /** Metres; allow for GPS error (20-50 m outdoors) when choosing it. */
      radiusMeters: Type.Number({ minimum: 10, maximum: 100_000 }),
    },
    { additionalProperties: false },
  ),
  Type.Object({ polygon: Type.Array(Type.Tuple([Lat, Lon]), { minItems: 3, maxItems: 200 }) }, { additionalProperties: false }),
]);
export type HomeZone = Static<typeof HomeZone>;

const EARTH_RADIUS_M = 6_371_008.8;
const rad = (deg: number) => (deg * Math.PI) / 180;

/** Great-circle distance in metres (haversine). */
export function distanceMeters(a: { lat: number; lon: number }, b: { lat: number; lon: number }): number {
  const dLat = rad(b.lat - a.lat);
  const dLon = rad(b.lon - a.lon);
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(rad(a.lat)) * Math.cos(rad(b.lat)) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** Whether a point is inside the zone (on the edge counts as inside). */
export function insideZone(zone: HomeZone, p: { lat: number; lon: number }): boolean {
  if ('radiusMeters' in zone) return distanceMeters(zone, p) <= zone.radiusMeters;
  // Ray casting on lat/lon as a plane: fine for a zone of a few km away from the poles and the antimeridian.
  let inside = false;
  const pts = zone.polygon;
  for (let i = 0, j = pts.length - 1; i < pts.length; j = i++) {
    const [yi, xi] = pts[i] as [number, number];
    const [yj, xj] = pts[j] as [number, number];
    if (yi > p.lat !== yj > p.lat && p.lon < ((xj - xi) * (p.lat - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

// Distances and zones on WGS-84 positions as GPS watches report them (decimal degrees). Shared by
// the server's geofence rule and the dashboard's location panel, so both judge a position alike.

export interface LatLon {
  lat: number;
  lon: number;
}
/** A home zone: a circle (centre and radius) or a polygon of `[lat, lon]` corners. */
export type Zone = (LatLon & { radiusMeters: number }) | { polygon: Array<[number, number]> };

const EARTH_RADIUS_M = 6_371_008.8;
const rad = (deg: number) => (deg * Math.PI) / 180;

/** Great-circle distance in metres (haversine). */
export function distanceMeters(a: LatLon, b: LatLon): number {
  const dLat = rad(b.lat - a.lat);
  const dLon = rad(b.lon - a.lon);
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(rad(a.lat)) * Math.cos(rad(b.lat)) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** Whether a point is inside the zone (on the edge counts as inside). */
export function insideZone(zone: Zone, p: LatLon): boolean {
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

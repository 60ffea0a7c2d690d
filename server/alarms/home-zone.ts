// A resident's home zone (防走失, 电子围栏): a circle (centre and radius) or a polygon of at least
// three corners, in WGS-84 decimal degrees as GPS watches report them. The schema (the geometry is
// protocol/geo.ts, shared with the dashboard); the rule that uses it is geofence.ts.
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

// The geometry is shared with the dashboard (protocol/geo.ts).
export { distanceMeters, insideZone } from '../../protocol/geo.ts';

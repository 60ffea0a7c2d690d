// The resident page's outdoors panel: the last position is the latest latitude with the longitude
// of the same reading, per device; the zone judgement is the server's own (protocol/geo.ts).
import { describe, expect, it } from 'vitest';
import { lastPosition } from '../../dashboard/src/ui/WatchPanel.tsx';
import { insideZone } from '../../protocol/geo.ts';

const p = (metric: string, ts: string, value: number, device = 'w1') => ({ metric, ts, value, device });

describe('outdoors panel', () => {
  it('pairs latitude and longitude of the same reading and takes the latest', () => {
    expect(
      lastPosition([
        p('latitude', '2026-12-02T10:00:00.000Z', 29.5),
        p('longitude', '2026-12-02T10:00:00.000Z', 106.5),
        p('latitude', '2026-12-02T10:05:00.000Z', 29.6),
        p('longitude', '2026-12-02T10:05:00.000Z', 106.6),
        // A latitude without its longitude (a reading cut in two by the query) is not a position.
        p('latitude', '2026-12-02T10:09:00.000Z', 29.7),
        p('longitude', '2026-12-02T10:09:00.000Z', 106.7, 'other-device'),
      ]),
    ).toEqual({ lat: 29.6, lon: 106.6, ts: '2026-12-02T10:05:00.000Z' });
    expect(lastPosition([])).toBeNull();
  });

  it('judges a zone as the server does', () => {
    expect(insideZone({ lat: 29.56301, lon: 106.551557, radiusMeters: 300 }, { lat: 29.565, lon: 106.551557 })).toBe(true);
    expect(insideZone({ lat: 29.56301, lon: 106.551557, radiusMeters: 300 }, { lat: 29.57, lon: 106.551557 })).toBe(false);
  });
});

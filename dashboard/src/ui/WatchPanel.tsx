// Outdoors (防走失): a resident's GPS watch on their page: the last position it reported, how far
// from home that is and whether it is inside the home zone, and (administrators) the home zone
// itself, whose leaving at night is a wander alarm (server/alarms/geofence.ts).
import { useState } from 'preact/hooks';
import { distanceMeters, insideZone, type Zone } from '../../../protocol/geo.ts';
import type { TelemetryPoint } from '../lib/series.ts';
import { formatAgo } from '../lib/timeago.ts';
import type { Resident } from './api-types.ts';
import { useI18n, useSession } from './context.ts';
import { useLoad } from './hooks.ts';

/** The last position among latitude and longitude readings taken at the same time. */
export function lastPosition(points: TelemetryPoint[]): { lat: number; lon: number; ts: string } | null {
  const lon = new Map<string, number>();
  for (const p of points) if (p.metric === 'longitude') lon.set(`${p.device}|${p.ts}`, p.value);
  let best: { lat: number; lon: number; ts: string } | null = null;
  for (const p of points) {
    if (p.metric !== 'latitude') continue;
    const o = lon.get(`${p.device}|${p.ts}`);
    if (o !== undefined && (!best || p.ts > best.ts)) best = { lat: p.value, lon: o, ts: p.ts };
  }
  return best;
}

export function WatchPanel(props: { resident: Resident; now: number; onSaved: () => void }) {
  const { t, lang } = useI18n();
  const { api, isAdmin } = useSession();
  const id = encodeURIComponent(props.resident.id);
  const positions = useLoad(() => {
    // Six hours of raw positions (longer ranges are bucket means).
    const from = new Date(Date.now() - 6 * 3600_000).toISOString();
    const to = new Date().toISOString();
    return Promise.all(
      ['latitude', 'longitude'].map((m) =>
        api.get<{ points: TelemetryPoint[] }>(`/residents/${id}/telemetry?metric=${m}&from=${from}&to=${to}`),
      ),
    ).then((rs) => rs.flatMap((r) => r.points));
  }, [api, id, Math.floor(props.now / 60_000)]);
  const zone = (props.resident.settings as { homeZone?: Zone } | undefined)?.homeZone ?? null;
  const last = lastPosition(positions.data ?? []);

  return (
    <div class="panel watch-panel">
      <h2>{t('watch.title')}</h2>
      {!last && <p class="muted">{positions.loading ? t('app.loading') : t('watch.no_position')}</p>}
      {last && (
        <p>
          {t('watch.last_position', { lat: last.lat.toFixed(5), lon: last.lon.toFixed(5) })} ·{' '}
          <span class="muted">{formatAgo(last.ts, props.now, lang)}</span>
          {zone && (
            <>
              <br />
              <strong class={insideZone(zone, last) ? 'zone-in' : 'zone-out'}>
                {insideZone(zone, last) ? t('watch.inside') : t('watch.outside')}
              </strong>
              {'radiusMeters' in zone && ` · ${t('watch.from_home', { m: Math.round(distanceMeters(zone, last)) })}`}
            </>
          )}
        </p>
      )}
      <p class="muted">
        {zone
          ? 'radiusMeters' in zone
            ? t('watch.zone_circle', { lat: zone.lat.toFixed(5), lon: zone.lon.toFixed(5), m: zone.radiusMeters })
            : t('watch.zone_polygon', { n: zone.polygon.length })
          : t('watch.no_zone')}
      </p>
      {isAdmin && <HomeZoneForm residentId={props.resident.id} zone={zone} last={last} onSaved={props.onSaved} />}
    </div>
  );
}

function HomeZoneForm(props: { residentId: string; zone: Zone | null; last: { lat: number; lon: number } | null; onSaved: () => void }) {
  const { t } = useI18n();
  const { api } = useSession();
  const circle = props.zone && 'radiusMeters' in props.zone ? props.zone : null;
  const [lat, setLat] = useState(circle ? String(circle.lat) : '');
  const [lon, setLon] = useState(circle ? String(circle.lon) : '');
  const [radius, setRadius] = useState(circle ? String(circle.radiusMeters) : '300');
  const [status, setStatus] = useState<string | null>(null);

  async function save(e: Event) {
    e.preventDefault();
    const body = { homeZone: { lat: Number(lat), lon: Number(lon), radiusMeters: Number(radius) } };
    const z = body.homeZone;
    if (![z.lat, z.lon, z.radiusMeters].every(Number.isFinite) || Math.abs(z.lat) > 90 || Math.abs(z.lon) > 180 || z.radiusMeters < 10) {
      setStatus(t('watch.zone_invalid'));
      return;
    }
    try {
      await api.put(`/residents/${encodeURIComponent(props.residentId)}/settings`, body);
      setStatus(t('watch.zone_saved'));
      props.onSaved();
    } catch (err) {
      setStatus(t('admin.error', { message: (err as Error).message }));
    }
  }

  return (
    <form class="zone-form" onSubmit={save}>
      <label>
        {t('watch.lat')}
        <input inputMode="decimal" value={lat} onInput={(e) => setLat(e.currentTarget.value)} required />
      </label>
      <label>
        {t('watch.lon')}
        <input inputMode="decimal" value={lon} onInput={(e) => setLon(e.currentTarget.value)} required />
      </label>
      <label>
        {t('watch.radius')}
        <input inputMode="numeric" value={radius} onInput={(e) => setRadius(e.currentTarget.value)} required />
      </label>
      <div class="zone-actions">
        {props.last && (
          <button
            type="button"
            class="btn"
            onClick={() => {
              setLat(String(props.last?.lat));
              setLon(String(props.last?.lon));
            }}
          >
            {t('watch.use_last')}
          </button>
        )}
        <button type="submit" class="btn btn-primary">
          {t('watch.save_zone')}
        </button>
      </div>
      {status && <p class="muted">{status}</p>}
    </form>
  );
}

// The community centre's board (#/centre): every family care bed of the operator's area in a list
// and on a map, each home's state (open alarm, who accepted it and when, who is on site), and the
// response times per escalation level. Read from GET /api/v1/centre/board, again whenever the
// live feed changes an alarm and every 15 s. Without a tile URL the map is markers on a plain
// background, which works offline.
import type * as Leaflet from 'leaflet';
import { useEffect, useRef } from 'preact/hooks';
import type { BoardHome, CentreBoard, LevelKpi } from '../../../protocol/areas.ts';
import type { FeedState } from '../lib/feed-state.ts';
import { translateDynamic } from '../lib/i18n.ts';
import { loadLeaflet } from '../lib/leaflet.ts';
import { routeHash } from '../lib/route.ts';
import { formatAgo } from '../lib/timeago.ts';
import { useI18n, useSession } from './context.ts';
import { useLoad, useNow } from './hooks.ts';

type HomeState = 'ok' | 'active' | 'acknowledged';
export const homeState = (h: BoardHome): HomeState => (h.alarm === null ? 'ok' : h.alarm.state === 'active' ? 'active' : 'acknowledged');
const COLOURS: Record<HomeState, string> = { ok: '#43a047', active: '#e53935', acknowledged: '#7e57c2' };
const STATE_TEXT = { ok: 'centre.state_ok', active: 'centre.state_active', acknowledged: 'centre.state_acknowledged' } as const;

const clock = (iso: string) => new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
const secs = (s: number | null) => (s === null ? '–' : s < 120 ? `${Math.round(s)} s` : `${Math.round(s / 60)} min`);

export function CentrePage(props: { feed: FeedState }) {
  const { t } = useI18n();
  const { api } = useSession();
  const board = useLoad(() => api.get<CentreBoard>('/centre/board'), [api]);
  // Read again when an alarm changes on the live feed (debounced), and every 15 s for the rest.
  const { reload } = board;
  useEffect(() => {
    const id = setTimeout(reload, 300);
    return () => clearTimeout(id);
  }, [props.feed.alarms, reload]);
  useEffect(() => {
    const id = setInterval(reload, 15_000);
    return () => clearInterval(id);
  }, [reload]);

  if (!board.data) return <p class="empty">{board.error ? t('centre.load_failed') : t('app.loading')}</p>;
  const { homes, levels, targets, mapTileUrl } = board.data;
  const alarming = homes.filter((h) => h.alarm !== null).length;
  // The alarming homes first: active, then accepted; then the rest by name.
  const order: Record<HomeState, number> = { active: 0, acknowledged: 1, ok: 2 };
  const sorted = [...homes].sort((a, b) => order[homeState(a)] - order[homeState(b)] || a.name.localeCompare(b.name));
  return (
    <section class="centre" data-testid="centre">
      <h2>
        {t('centre.title')} · {t('centre.homes', { n: homes.length })}
        {alarming > 0 && <span class="centre-alarming"> · {t('centre.alarming', { n: alarming })}</span>}
      </h2>
      <SetupLinks />
      {board.error && <p class="error">{t('centre.load_failed')}</p>}
      {homes.length === 0 ? (
        <p class="empty">{t('centre.empty')}</p>
      ) : (
        <div class="centre-grid">
          <ul class="centre-homes" data-testid="centre-homes">
            {sorted.map((h) => (
              <HomeRow key={h.siteId} home={h} />
            ))}
          </ul>
          <HomeMap homes={homes} tileUrl={mapTileUrl} />
        </div>
      )}
      <Kpis levels={levels} targets={targets} />
    </section>
  );
}

/** Where the areas and homes are set up: for those who may (an administrator, a centre operator). */
function SetupLinks() {
  const { t } = useI18n();
  const { isAdmin, user } = useSession();
  if (!isAdmin && user.role !== 'centre_operator') return null;
  return (
    <nav class="centre-setup" aria-label={t('centre.setup')} data-testid="centre-setup">
      <a class="btn btn-quiet" href={routeHash({ page: 'centre', section: 'areas' })} data-testid="centre-areas-link">
        {t('nav.areas')}
      </a>
      <a class="btn btn-quiet" href={routeHash({ page: 'centre', section: 'homes' })} data-testid="centre-homes-link">
        {t('nav.homes')}
      </a>
    </nav>
  );
}

function HomeRow(props: { home: BoardHome }) {
  const { t, lang } = useI18n();
  const now = useNow(5000);
  const h = props.home;
  const state = homeState(h);
  const a = h.alarm;
  return (
    <li class={`centre-home state-${state}`} data-testid="centre-home" data-site={h.siteId} data-state={state}>
      <div class="centre-home-head">
        <strong>{h.name}</strong>
        <span class={`centre-badge state-${state}`}>{t(STATE_TEXT[state])}</span>
      </div>
      {h.address && <div class="centre-home-address">{h.address}</div>}
      <div class="centre-home-meta">
        {h.residents.map((r) => r.name).join('、')}
        {h.gridWorker && ` · ${t('centre.grid_worker')}: ${h.gridWorker}`}
        {h.areaName && ` · ${h.areaName}`}
      </div>
      {a && (
        <div class="centre-home-alarm" data-testid="centre-alarm">
          <span class="centre-alarm-type">{translateDynamic(lang, `alarm.${a.type}`, a.type)}</span>
          {a.residentName && ` · ${a.residentName}`} · {t('centre.raised_at', { time: formatAgo(a.raisedAt, now, lang) })} ·{' '}
          {t('centre.level', { n: a.escalationLevel })}
          <div data-testid="centre-accepted">
            {a.ackBy && a.ackAt ? t('centre.accepted_by', { who: a.ackBy, time: clock(a.ackAt) }) : t('centre.state_active')}
          </div>
          <div data-testid="centre-on-site">
            {a.onSiteBy ? t('centre.on_site_by', { who: a.onSiteBy, time: a.onSiteAt ? clock(a.onSiteAt) : '' }) : t('centre.not_on_site')}
          </div>
        </div>
      )}
    </li>
  );
}

/** Homes with a position as circle markers (SVG, no images), coloured by state. */
function HomeMap(props: { homes: BoardHome[]; tileUrl: string | null }) {
  const { t } = useI18n();
  const el = useRef<HTMLElement>(null);
  const map = useRef<{ L: typeof Leaflet; map: Leaflet.Map; layer: Leaflet.LayerGroup; fitted: boolean } | null>(null);
  const placed = props.homes.filter((h) => h.lat !== null && h.lon !== null);

  useEffect(() => {
    let gone = false;
    loadLeaflet()
      .then((L) => {
        if (gone || !el.current || map.current) return;
        const m = L.map(el.current, { attributionControl: Boolean(props.tileUrl) });
        if (props.tileUrl) L.tileLayer(props.tileUrl, { maxZoom: 19 }).addTo(m);
        map.current = { L, map: m, layer: L.layerGroup().addTo(m), fitted: false };
        draw();
      })
      .catch(() => undefined);
    return () => {
      gone = true;
      map.current?.map.remove();
      map.current = null;
    };
  }, [props.tileUrl]);

  const draw = () => {
    const m = map.current;
    if (!m) return;
    m.layer.clearLayers();
    const points: Array<[number, number]> = [];
    for (const h of placed) {
      const state = homeState(h);
      const at: [number, number] = [h.lat as number, h.lon as number];
      points.push(at);
      m.L.circleMarker(at, {
        radius: state === 'ok' ? 7 : 11,
        color: '#0e1319',
        weight: 2,
        fillColor: COLOURS[state],
        fillOpacity: 0.95,
        className: `home-marker state-${state}`,
      })
        .bindTooltip(`${h.name}${h.address ? ` · ${h.address}` : ''}`)
        .addTo(m.layer);
    }
    if (!m.fitted && points.length > 0) {
      m.map.fitBounds(m.L.latLngBounds(points).pad(0.3), { maxZoom: 16 });
      m.fitted = true;
    }
  };
  useEffect(draw, [props.homes]);

  return (
    <div class="centre-map-wrap">
      <section
        ref={el}
        class={props.tileUrl ? 'centre-map' : 'centre-map no-tiles'}
        data-testid="centre-map"
        aria-label={t('centre.map')}
      />
      {!props.tileUrl && <p class="centre-note">{t('centre.no_map')}</p>}
      {placed.length < props.homes.length && (
        <p class="centre-note">{t('centre.no_position', { n: props.homes.length - placed.length })}</p>
      )}
    </div>
  );
}

function Kpis(props: { levels: LevelKpi[]; targets: CentreBoard['targets'] }) {
  const { t } = useI18n();
  const pct = (n: number | null) => (n === null ? '–' : `${n}%`);
  return (
    <div class="centre-kpis">
      <h3>{t('centre.kpis')}</h3>
      {props.levels.length === 0 ? (
        <p class="empty">{t('centre.kpi_none')}</p>
      ) : (
        <table class="table" data-testid="centre-kpis">
          <thead>
            <tr>
              <th>{t('centre.kpi_level')}</th>
              <th>{t('centre.kpi_alarms')}</th>
              <th>{t('centre.kpi_accept')}</th>
              <th>{t('centre.kpi_accept_target', { n: props.targets.acceptSeconds })}</th>
              <th>{t('centre.kpi_on_site')}</th>
              <th>{t('centre.kpi_on_site_target', { n: Math.round(props.targets.onSiteSeconds / 60) })}</th>
            </tr>
          </thead>
          <tbody>
            {props.levels.map((l) => (
              <tr key={l.level}>
                <td>
                  {l.level} · {l.name}
                </td>
                <td>{l.alarms}</td>
                <td>
                  {secs(l.acceptSecondsP50)} / {secs(l.acceptSecondsP90)}
                </td>
                <td>{pct(l.acceptedWithinTargetPercent)}</td>
                <td>
                  {secs(l.onSiteSecondsP50)} / {secs(l.onSiteSecondsP90)}
                </td>
                <td>{pct(l.onSiteWithinTargetPercent)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

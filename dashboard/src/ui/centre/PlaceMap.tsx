// A small map to set a home's position by clicking it (Leaflet from our own origin). Tiles come
// from CARE_MAP_TILE_URL when set; without them the map is a plain background with the area's
// other homes as grey dots to go by, and the latitude and longitude can be typed instead.
import type * as Leaflet from 'leaflet';
import { useEffect, useRef } from 'preact/hooks';
import { loadLeaflet } from '../../lib/leaflet.ts';
import { useI18n } from '../context.ts';

/** Where the map opens when no home has a position yet (central Shanghai). */
const FALLBACK_CENTRE: [number, number] = [31.2304, 121.4737];
const round = (x: number) => Math.round(x * 1e6) / 1e6;

export function PlaceMap(props: {
  lat: number | null;
  lon: number | null;
  tileUrl: string | null;
  /** Other homes' positions, drawn grey for orientation. */
  others: Array<[number, number]>;
  onPick: (lat: number, lon: number) => void;
}) {
  const { t } = useI18n();
  const el = useRef<HTMLDivElement>(null);
  const map = useRef<{
    L: typeof Leaflet;
    map: Leaflet.Map;
    marker: Leaflet.CircleMarker | null;
    others: Leaflet.LayerGroup;
    placed: boolean;
  } | null>(null);
  const pick = useRef(props.onPick);
  pick.current = props.onPick;

  useEffect(() => {
    let gone = false;
    loadLeaflet()
      .then((L) => {
        if (gone || !el.current || map.current) return;
        const m = L.map(el.current, { attributionControl: Boolean(props.tileUrl) });
        if (props.tileUrl) L.tileLayer(props.tileUrl, { maxZoom: 19 }).addTo(m);
        m.setView(FALLBACK_CENTRE, 13);
        m.on('click', (e: Leaflet.LeafletMouseEvent) => pick.current(round(e.latlng.lat), round(e.latlng.lng)));
        map.current = { L, map: m, marker: null, others: L.layerGroup().addTo(m), placed: false };
        draw();
        mark();
      })
      .catch(() => undefined);
    return () => {
      gone = true;
      map.current?.map.remove();
      map.current = null;
    };
  }, [props.tileUrl]);

  /** The other homes as grey dots; the view goes to this home, else to them, until it has been placed once. */
  const draw = () => {
    const m = map.current;
    if (!m) return;
    m.others.clearLayers();
    for (const at of props.others)
      m.L.circleMarker(at, { radius: 5, color: '#607d8b', weight: 1, fillColor: '#90a4ae', fillOpacity: 0.8, interactive: false }).addTo(
        m.others,
      );
    if (m.placed) return;
    if (props.lat !== null && props.lon !== null) m.map.setView([props.lat, props.lon], 16);
    else if (props.others.length > 0) m.map.fitBounds(m.L.latLngBounds(props.others).pad(0.3), { maxZoom: 16 });
    else return;
    m.placed = true;
  };
  const mark = () => {
    const m = map.current;
    if (!m) return;
    m.marker?.remove();
    m.marker =
      props.lat === null || props.lon === null
        ? null
        : m.L.circleMarker([props.lat, props.lon], {
            radius: 9,
            color: '#0e1319',
            weight: 2,
            fillColor: '#1e88e5',
            fillOpacity: 0.95,
            className: 'place-marker',
          }).addTo(m.map);
    // A position clicked or typed: the view stays where the person is working.
    if (m.marker) m.placed = true;
  };
  useEffect(draw, [props.others]);
  useEffect(mark, [props.lat, props.lon]);

  return (
    <div class="place-map-wrap">
      <div
        ref={el}
        class={props.tileUrl ? 'place-map' : 'place-map no-tiles'}
        data-testid="place-map"
        role="application"
        aria-label={t('homes.map_label')}
      />
      <small class="muted">{props.tileUrl ? t('homes.map_help') : t('homes.map_help_no_tiles')}</small>
    </div>
  );
}

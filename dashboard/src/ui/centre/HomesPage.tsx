// The family care beds of an area (#/centre/homes/<areaId>, #/admin/homes/<areaId>): each home
// with its address, area, grid worker and residents. An administrator creates a home in the area
// (name, address, position clicked on a small map, grid worker, its first resident); an
// administrator or the area's centre operator edits a home's place (PUT /sites/{id}/home) and each
// resident's family contacts. What the caller may not do is not offered; a refusal the server
// gives anyway (403) is shown as one.
import { useMemo, useState } from 'preact/hooks';
import type { CentreBoard } from '../../../../protocol/areas.ts';
import { translateDynamic } from '../../lib/i18n.ts';
import { routeHash } from '../../lib/route.ts';
import type { Resident, Site } from '../api-types.ts';
import { useI18n, useSession } from '../context.ts';
import { useLoad } from '../hooks.ts';
import { Field, LoadState, type Status, StatusLine, val } from '../pages/common.tsx';
import {
  type Area,
  areaOptions,
  areaPath,
  type GridWorker,
  personName,
  refusalText,
  subtreeIds,
  useAreas,
  useGridWorkers,
  useHomes,
} from './areas-data.ts';
import { ContactsEditor } from './ContactsEditor.tsx';
import { PlaceMap } from './PlaceMap.tsx';

interface Shared {
  areas: Area[];
  /** null: the caller cannot read the users list (the grid worker is kept as it is). */
  workers: GridWorker[] | null;
  tileUrl: string | null;
  positions: Array<[number, number]>;
}

export function HomesPage(props: { base: 'admin' | 'centre'; areaId?: string }) {
  const { t, lang } = useI18n();
  const { api, isAdmin } = useSession();
  const areas = useAreas();
  const homes = useHomes();
  const workers = useGridWorkers();
  const residents = useLoad(async () => (await api.get<{ residents: Resident[] }>('/residents')).residents, [api]);
  // The board carries the map's tile URL (CARE_MAP_TILE_URL); an empty window keeps its figures cheap.
  const tiles = useLoad(async () => {
    const now = new Date().toISOString();
    return (await api.get<CentreBoard>(`/centre/board?from=${now}&to=${now}`)).mapTileUrl;
  }, [api]);
  const areaList = areas.data ?? [];
  const chosen = props.areaId && areaList.some((a) => a.id === props.areaId) ? props.areaId : '';
  const inArea = chosen ? subtreeIds(areaList, chosen) : null;
  const reload = () => {
    homes.reload();
    residents.reload();
  };
  // The homes' positions, the same array until the homes are read again (the maps redraw on a change).
  const positions = useMemo(
    () =>
      (homes.data ?? []).flatMap((s) =>
        s.lat !== null && s.lat !== undefined && s.lon !== null && s.lon !== undefined ? [[s.lat, s.lon] as [number, number]] : [],
      ),
    [homes.data],
  );
  const shared: Shared | null =
    areas.data && (workers.data !== null || !workers.loading)
      ? {
          areas: areas.data,
          workers: workers.data,
          tileUrl: tiles.data ?? null,
          positions,
        }
      : null;
  const choosable = areaOptions(areaList);
  return (
    <section class="admin admin-page centre-admin" data-testid="homes-page">
      <h1>{t('homes.title')}</h1>
      <div class="panel-head">
        <Field label={t('homes.area')}>
          <select
            value={chosen}
            data-testid="homes-area"
            onChange={(e) => {
              location.hash = routeHash({ page: props.base, section: 'homes', ...(val(e) ? { id: val(e) } : {}) });
            }}
          >
            <option value="">{t('homes.all_areas')}</option>
            {choosable.map(({ area, depth }) => (
              <option key={area.id} value={area.id}>
                {`${'\u00a0\u00a0'.repeat(depth)}${area.name} · ${translateDynamic(lang, `area.kind.${area.kind}`, area.kind)}`}
              </option>
            ))}
          </select>
        </Field>
        <a class="btn btn-quiet" href={routeHash({ page: props.base, section: 'areas' })}>
          {t('homes.to_areas')}
        </a>
      </div>
      <div class="admin-split">
        <div class="panel">
          <h2>{chosen ? areaPath(areaList, chosen) : t('homes.all_areas')}</h2>
          <LoadState
            loaded={homes}
            isEmpty={(list) => list.filter((s) => !inArea || (s.areaId && inArea.has(s.areaId))).length === 0}
            emptyText={t('homes.empty')}
          >
            {(list) => (
              <ul class="admin-list" data-testid="home-list">
                {list
                  .filter((s) => !inArea || (s.areaId && inArea.has(s.areaId)))
                  .map((s) => (
                    <HomeCard
                      key={s.id}
                      site={s}
                      shared={shared}
                      residents={(residents.data ?? []).filter((r) => r.siteId === s.id)}
                      onSaved={reload}
                    />
                  ))}
              </ul>
            )}
          </LoadState>
        </div>
        {isAdmin && shared && <NewHome shared={shared} areaId={chosen} onCreated={reload} />}
      </div>
    </section>
  );
}

function HomeCard(props: { site: Site; shared: Shared | null; residents: Resident[]; onSaved: () => void }) {
  const { t } = useI18n();
  const { isAdmin, user } = useSession();
  const [editing, setEditing] = useState(false);
  const [contactsOf, setContactsOf] = useState<string | null>(null);
  const s = props.site;
  const may = isAdmin || user.role === 'centre_operator';
  const worker = s.gridWorkerId ? props.shared?.workers?.find((w) => w.id === s.gridWorkerId) : undefined;
  return (
    <li class="admin-row home-card" data-testid="home" data-site={s.id}>
      <div class="admin-row-main">
        <strong>{s.name}</strong>
        <div>{s.address ?? <span class="muted">{t('homes.no_address')}</span>}</div>
        <div class="muted">
          {props.shared && s.areaId ? areaPath(props.shared.areas, s.areaId) : t('homes.no_area')}
          {' · '}
          {t('centre.grid_worker')}: {worker ? personName(worker) : (s.gridWorkerId ?? t('homes.none'))}
          {' · '}
          {s.lat !== null && s.lat !== undefined && s.lon !== null && s.lon !== undefined
            ? `${s.lat.toFixed(5)}, ${s.lon.toFixed(5)}`
            : t('homes.no_position')}
        </div>
      </div>
      {may && props.shared && (
        <button type="button" class="btn btn-quiet" aria-expanded={editing} onClick={() => setEditing(!editing)} data-testid="home-edit">
          {editing ? t('form.cancel') : t('homes.edit_place')}
        </button>
      )}
      {editing && props.shared && (
        <div class="admin-edit">
          <PlaceForm
            shared={props.shared}
            site={s}
            onSaved={() => {
              setEditing(false);
              props.onSaved();
            }}
          />
        </div>
      )}
      <div class="admin-edit home-residents">
        <h3>{t('homes.residents')}</h3>
        {props.residents.length === 0 && <p class="muted">{t('homes.no_residents')}</p>}
        <ul class="admin-list">
          {props.residents.map((r) => (
            <li key={r.id} class="home-resident" data-testid="home-resident" data-resident={r.id}>
              <span>{r.name}</span>
              <button
                type="button"
                class="btn btn-quiet"
                aria-expanded={contactsOf === r.id}
                onClick={() => setContactsOf(contactsOf === r.id ? null : r.id)}
                data-testid="contacts-open"
              >
                {contactsOf === r.id ? t('homes.close_contacts') : t('homes.contacts')}
              </button>
              {contactsOf === r.id && <ContactsEditor resident={r} editable={may} />}
            </li>
          ))}
        </ul>
        {isAdmin && <AddResident siteId={s.id} onAdded={props.onSaved} />}
      </div>
    </li>
  );
}

interface PlaceDraft {
  name: string;
  resident: string;
  address: string;
  areaId: string;
  lat: string;
  lon: string;
  gridWorkerId: string;
}

/** The place as the server takes it, or the i18n key of what is wrong. */
function readPlace(d: PlaceDraft, workersKnown: boolean): { body: Record<string, unknown> } | { error: 'homes.bad_position' } {
  const lat = d.lat.trim() === '' ? null : Number(d.lat);
  const lon = d.lon.trim() === '' ? null : Number(d.lon);
  const bad = (x: number | null, lim: number) => x !== null && !(Number.isFinite(x) && Math.abs(x) <= lim);
  if ((lat === null) !== (lon === null) || bad(lat, 90) || bad(lon, 180)) return { error: 'homes.bad_position' };
  return {
    body: {
      areaId: d.areaId || null,
      address: d.address.trim() || null,
      lat,
      lon,
      ...(workersKnown ? { gridWorkerId: d.gridWorkerId || null } : {}),
    },
  };
}

function PlaceFields(props: { shared: Shared; draft: PlaceDraft; set: (d: Partial<PlaceDraft>) => void }) {
  const { t, lang } = useI18n();
  const { draft: d, set, shared } = props;
  const lat = d.lat.trim() === '' ? null : Number(d.lat);
  const lon = d.lon.trim() === '' ? null : Number(d.lon);
  const current = shared.workers === null && d.gridWorkerId ? d.gridWorkerId : null;
  return (
    <>
      <Field label={t('homes.address')}>
        <input name="address" value={d.address} maxLength={500} onInput={(e) => set({ address: e.currentTarget.value })} />
      </Field>
      <Field label={t('homes.area')}>
        <select name="areaId" value={d.areaId} onChange={(e) => set({ areaId: val(e) })}>
          <option value="">{t('homes.none')}</option>
          {areaOptions(shared.areas).map(({ area, depth }) => (
            <option key={area.id} value={area.id}>
              {`${'\u00a0\u00a0'.repeat(depth)}${area.name} · ${translateDynamic(lang, `area.kind.${area.kind}`, area.kind)}`}
            </option>
          ))}
        </select>
      </Field>
      <PlaceMap
        lat={lat !== null && Number.isFinite(lat) ? lat : null}
        lon={lon !== null && Number.isFinite(lon) ? lon : null}
        tileUrl={shared.tileUrl}
        others={shared.positions}
        onPick={(a, b) => set({ lat: String(a), lon: String(b) })}
      />
      <div class="place-coords">
        <Field label={t('homes.lat')}>
          <input name="lat" inputMode="decimal" value={d.lat} onInput={(e) => set({ lat: e.currentTarget.value })} />
        </Field>
        <Field label={t('homes.lon')}>
          <input name="lon" inputMode="decimal" value={d.lon} onInput={(e) => set({ lon: e.currentTarget.value })} />
        </Field>
      </div>
      {shared.workers === null ? (
        <p class="muted" data-testid="grid-worker-fixed">
          {t('centre.grid_worker')}: {current ?? t('homes.none')} · {t('homes.grid_worker_by_admin')}
        </p>
      ) : (
        <Field label={t('centre.grid_worker')}>
          <select name="gridWorkerId" value={d.gridWorkerId} onChange={(e) => set({ gridWorkerId: val(e) })}>
            <option value="">{t('homes.none')}</option>
            {shared.workers.map((w) => (
              <option key={w.id} value={w.id}>
                {personName(w)}
              </option>
            ))}
          </select>
        </Field>
      )}
    </>
  );
}

const draftOf = (s?: Site, areaId = ''): PlaceDraft => ({
  name: s?.name ?? '',
  resident: '',
  address: s?.address ?? '',
  areaId: s ? (s.areaId ?? '') : areaId,
  lat: s?.lat === null || s?.lat === undefined ? '' : String(s.lat),
  lon: s?.lon === null || s?.lon === undefined ? '' : String(s.lon),
  gridWorkerId: s?.gridWorkerId ?? '',
});

function useSave() {
  const { t } = useI18n();
  const [status, setStatus] = useState<Status>(null);
  const [busy, setBusy] = useState(false);
  const run = async (fn: () => Promise<string>) => {
    setBusy(true);
    setStatus(null);
    try {
      setStatus({ ok: true, text: await fn() });
    } catch (err) {
      setStatus({ ok: false, text: refusalText(t, err) });
    } finally {
      setBusy(false);
    }
  };
  return { status, setStatus, busy, run };
}

function PlaceForm(props: { shared: Shared; site: Site; onSaved: () => void }) {
  const { t } = useI18n();
  const { api } = useSession();
  const [draft, setDraft] = useState(() => draftOf(props.site));
  const { status, setStatus, busy, run } = useSave();
  return (
    <form
      class="panel admin-form place-form"
      data-testid="place-form"
      onSubmit={(e) => {
        e.preventDefault();
        const place = readPlace(draft, props.shared.workers !== null);
        if ('error' in place) return setStatus({ ok: false, text: t(place.error) });
        void run(async () => {
          await api.put(`/sites/${encodeURIComponent(props.site.id)}/home`, place.body);
          props.onSaved();
          return t('admin.saved');
        });
      }}
    >
      <PlaceFields shared={props.shared} draft={draft} set={(d) => setDraft((x) => ({ ...x, ...d }))} />
      <div class="form-actions">
        <button type="submit" class="btn btn-primary" disabled={busy}>
          {busy ? t('form.saving') : t('admin.save')}
        </button>
      </div>
      <StatusLine status={status} testid="place-status" />
    </form>
  );
}

function NewHome(props: { shared: Shared; areaId: string; onCreated: () => void }) {
  const { t } = useI18n();
  const { api } = useSession();
  const [draft, setDraft] = useState(() => draftOf(undefined, props.areaId));
  const { status, setStatus, busy, run } = useSave();
  // Follow the page's area until the form is touched.
  const [touched, setTouched] = useState(false);
  const d = touched ? draft : { ...draft, areaId: props.areaId };
  const set = (p: Partial<PlaceDraft>) => {
    setTouched(true);
    setDraft({ ...d, ...p });
  };
  return (
    <form
      class="panel admin-form place-form"
      data-testid="new-home"
      onSubmit={(e) => {
        e.preventDefault();
        if (!d.name.trim()) return setStatus({ ok: false, text: t('homes.name_needed') });
        const place = readPlace(d, props.shared.workers !== null);
        if ('error' in place) return setStatus({ ok: false, text: t(place.error) });
        void run(async () => {
          const site = await api.post<Site>('/sites', { name: d.name.trim(), kind: 'family_bed', ...place.body });
          if (d.resident.trim()) await api.post('/residents', { siteId: site.id, name: d.resident.trim(), room: t('homes.room') });
          setDraft(draftOf(undefined, props.areaId));
          setTouched(false);
          props.onCreated();
          return t('homes.created', { name: site.name });
        });
      }}
    >
      <h2>{t('homes.new')}</h2>
      <Field label={t('homes.name')} hint={t('homes.name_hint')}>
        <input name="name" value={d.name} maxLength={200} onInput={(e) => set({ name: e.currentTarget.value })} />
      </Field>
      <Field label={t('homes.resident')} hint={t('homes.resident_hint')}>
        <input name="resident" value={d.resident} maxLength={200} onInput={(e) => set({ resident: e.currentTarget.value })} />
      </Field>
      <PlaceFields shared={props.shared} draft={d} set={set} />
      <div class="form-actions">
        <button type="submit" class="btn btn-primary" disabled={busy}>
          {busy ? t('form.saving') : t('admin.create')}
        </button>
      </div>
      <StatusLine status={status} testid="new-home-status" />
    </form>
  );
}

function AddResident(props: { siteId: string; onAdded: () => void }) {
  const { t } = useI18n();
  const { api } = useSession();
  const [name, setName] = useState('');
  const { status, busy, run } = useSave();
  return (
    <form
      class="inline-form"
      data-testid="add-resident"
      onSubmit={(e) => {
        e.preventDefault();
        if (!name.trim()) return;
        void run(async () => {
          await api.post('/residents', { siteId: props.siteId, name: name.trim(), room: t('homes.room') });
          setName('');
          props.onAdded();
          return t('admin.saved');
        });
      }}
    >
      <label class="field">
        <span>{t('homes.add_resident')}</span>
        <input name="resident" value={name} maxLength={200} onInput={(e) => setName(e.currentTarget.value)} />
      </label>
      <button type="submit" class="btn btn-quiet" disabled={busy || !name.trim()}>
        {t('form.add')}
      </button>
      <StatusLine status={status} />
    </form>
  );
}

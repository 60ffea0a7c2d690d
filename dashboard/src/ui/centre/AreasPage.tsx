// The areas tree (#/centre/areas, #/admin/areas): district -> street -> community, each with a
// link to its homes. An administrator adds a district, adds a street or community under an area
// and renames one; a centre operator sees their own part of the tree, read only (the server
// allows area changes to administrators only).
import { useState } from 'preact/hooks';
import { translateDynamic } from '../../lib/i18n.ts';
import { routeHash } from '../../lib/route.ts';
import { useI18n, useSession } from '../context.ts';
import { LoadState, type Status, StatusLine } from '../pages/common.tsx';
import { type Area, type AreaNode, areaTree, CHILD_KIND, refusalText, useAreas, useHomes } from './areas-data.ts';

export function AreasPage(props: { base: 'admin' | 'centre' }) {
  const { t } = useI18n();
  const { isAdmin } = useSession();
  const areas = useAreas();
  const homes = useHomes();
  const count = (ids: Set<string>) => (homes.data ?? []).filter((s) => s.areaId && ids.has(s.areaId)).length;
  return (
    <section class="admin admin-page centre-admin" data-testid="areas-page">
      <h1>{t('areas.title')}</h1>
      <p class="muted">{isAdmin ? t('areas.help_admin') : t('areas.help_operator')}</p>
      <div class="panel">
        <LoadState loaded={areas} isEmpty={(a) => a.length === 0} emptyText={isAdmin ? t('areas.empty_admin') : t('areas.empty')}>
          {(list) => (
            <ul class="area-tree" data-testid="area-tree">
              {areaTree(list).map((n) => (
                <AreaItem key={n.id} node={n} base={props.base} count={count} onChanged={areas.reload} />
              ))}
            </ul>
          )}
        </LoadState>
        {isAdmin && <AddArea kind="district" onAdded={areas.reload} />}
      </div>
    </section>
  );
}

function below(node: AreaNode): Set<string> {
  const out = new Set([node.id]);
  for (const c of node.children) for (const id of below(c)) out.add(id);
  return out;
}

function AreaItem(props: { node: AreaNode; base: 'admin' | 'centre'; count: (ids: Set<string>) => number; onChanged: () => void }) {
  const { t, lang } = useI18n();
  const { isAdmin } = useSession();
  const [mode, setMode] = useState<'none' | 'rename' | 'add'>('none');
  const n = props.node;
  const child = CHILD_KIND[n.kind];
  const homes = props.count(below(n));
  return (
    <li data-testid="area" data-area={n.id} data-kind={n.kind} data-name={n.name}>
      <div class="area-row">
        <span class={`area-kind kind-${n.kind}`}>{translateDynamic(lang, `area.kind.${n.kind}`, n.kind)}</span>
        <strong class="area-name" data-testid="area-name">
          {n.name}
        </strong>
        <a class="btn btn-quiet" href={routeHash({ page: props.base, section: 'homes', id: n.id })} data-testid="area-homes">
          {t('areas.homes', { n: homes })}
        </a>
        {isAdmin && (
          <>
            <button
              type="button"
              class="btn btn-quiet"
              aria-expanded={mode === 'rename'}
              onClick={() => setMode(mode === 'rename' ? 'none' : 'rename')}
              data-testid="area-rename"
            >
              {mode === 'rename' ? t('form.cancel') : t('areas.rename')}
            </button>
            {child && (
              <button
                type="button"
                class="btn btn-quiet"
                aria-expanded={mode === 'add'}
                onClick={() => setMode(mode === 'add' ? 'none' : 'add')}
                data-testid="area-add-child"
              >
                {mode === 'add' ? t('form.cancel') : t('areas.add_child', { kind: translateDynamic(lang, `area.kind.${child}`, child) })}
              </button>
            )}
          </>
        )}
      </div>
      {mode === 'rename' && (
        <Rename
          area={n}
          onDone={() => {
            setMode('none');
            props.onChanged();
          }}
        />
      )}
      {mode === 'add' && child && (
        <AddArea
          kind={child}
          parentId={n.id}
          onAdded={() => {
            setMode('none');
            props.onChanged();
          }}
        />
      )}
      {n.children.length > 0 && (
        <ul>
          {n.children.map((c) => (
            <AreaItem key={c.id} node={c} base={props.base} count={props.count} onChanged={props.onChanged} />
          ))}
        </ul>
      )}
    </li>
  );
}

function useSubmit() {
  const { t } = useI18n();
  const [status, setStatus] = useState<Status>(null);
  const [busy, setBusy] = useState(false);
  const run = async (fn: () => Promise<unknown>, then: () => void) => {
    setBusy(true);
    setStatus(null);
    try {
      await fn();
      then();
    } catch (err) {
      setStatus({ ok: false, text: refusalText(t, err) });
    } finally {
      setBusy(false);
    }
  };
  return { status, busy, run };
}

function AddArea(props: { kind: Area['kind']; parentId?: string; onAdded: () => void }) {
  const { t, lang } = useI18n();
  const { api } = useSession();
  const [name, setName] = useState('');
  const { status, busy, run } = useSubmit();
  const kind = translateDynamic(lang, `area.kind.${props.kind}`, props.kind);
  return (
    <form
      class="inline-form"
      data-testid={`add-${props.kind}`}
      onSubmit={(e) => {
        e.preventDefault();
        if (!name.trim()) return;
        void run(
          () => api.post('/areas', { kind: props.kind, name: name.trim(), ...(props.parentId ? { parentId: props.parentId } : {}) }),
          () => {
            setName('');
            props.onAdded();
          },
        );
      }}
    >
      <label class="field">
        <span>{t('areas.new_name', { kind })}</span>
        <input name="name" value={name} maxLength={200} onInput={(e) => setName(e.currentTarget.value)} required />
      </label>
      <button type="submit" class="btn btn-primary" disabled={busy || !name.trim()}>
        {t('areas.add', { kind })}
      </button>
      <StatusLine status={status} testid="area-error" />
    </form>
  );
}

function Rename(props: { area: Area; onDone: () => void }) {
  const { t } = useI18n();
  const { api } = useSession();
  const [name, setName] = useState(props.area.name);
  const { status, busy, run } = useSubmit();
  return (
    <form
      class="inline-form"
      data-testid="rename-form"
      onSubmit={(e) => {
        e.preventDefault();
        if (!name.trim()) return;
        void run(() => api.patch(`/areas/${encodeURIComponent(props.area.id)}`, { name: name.trim() }), props.onDone);
      }}
    >
      <label class="field">
        <span>{t('areas.name')}</span>
        <input name="name" value={name} maxLength={200} onInput={(e) => setName(e.currentTarget.value)} required />
      </label>
      <button type="submit" class="btn btn-primary" disabled={busy || !name.trim()}>
        {t('admin.save')}
      </button>
      <StatusLine status={status} testid="area-error" />
    </form>
  );
}

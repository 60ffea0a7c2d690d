// What the admin pages share: loading / error / empty states around loaded data, a site picker and
// the shell of a page about one site, a labelled field, an action's busy and result state, and saving a text file (CSV, JSON export).
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import type { Device, Gateway, Site } from '../api-types.ts';
import { useI18n, useSession } from '../context.ts';
import { type Loaded, useLoad } from '../hooks.ts';

export const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));
export const val = (e: Event) => (e.currentTarget as HTMLInputElement | HTMLSelectElement).value;

/** Loading, failed (with a retry), empty, or the content drawn from the data. */
export function LoadState<T>(props: {
  loaded: Loaded<T>;
  isEmpty?: (data: T) => boolean;
  emptyText?: string;
  children: (data: T) => ComponentChildren;
}) {
  const { t } = useI18n();
  const { data, error, loading, reload } = props.loaded;
  if (error && data === null)
    return (
      <div class="load-error" role="alert" data-testid="load-error">
        <p class="error">{t('page.load_failed', { message: error })}</p>
        <button type="button" class="btn btn-quiet" onClick={reload}>
          {t('page.retry')}
        </button>
      </div>
    );
  if (data === null)
    return (
      <p class="muted loading" data-testid="loading" aria-busy="true">
        {loading ? t('app.loading') : ''}
      </p>
    );
  if (props.isEmpty?.(data))
    return (
      <p class="empty page-empty" data-testid="empty">
        {props.emptyText ?? t('page.empty')}
      </p>
    );
  return (
    <>
      {error && (
        <p class="error" role="alert">
          {t('page.load_failed', { message: error })}
        </p>
      )}
      {props.children(data)}
    </>
  );
}

/** The sites an administrator can pick from; the page picks the first when none is chosen yet. */
export function useSites(): Loaded<Site[]> {
  const { api } = useSession();
  return useLoad(async () => (await api.get<{ sites: Site[] }>('/sites')).sites, [api]);
}

export function SitePicker(props: { sites: Site[]; value: string; onChange: (id: string) => void; testid?: string }) {
  const { t } = useI18n();
  return (
    <Field label={t('admin.site')}>
      <select value={props.value} onChange={(e) => props.onChange(val(e))} data-testid={props.testid ?? 'site-picker'}>
        {props.sites.map((s) => (
          <option value={s.id} key={s.id}>
            {s.name} ({s.id})
          </option>
        ))}
      </select>
    </Field>
  );
}

/** The chosen site: the one picked, else the first one there is. */
export function useChosenSite(sites: Site[] | null): [string, (id: string) => void] {
  const [picked, setPicked] = useState('');
  const id = picked && sites?.some((s) => s.id === picked) ? picked : (sites?.[0]?.id ?? '');
  return [id, setPicked];
}

/**
 * An admin page about one site: its title and intro, the site picker (the first site until one is
 * picked), and what `load` reads for the picked site, drawn by `children` with a reload. The previous
 * site's data stays loaded until this one's arrives: it is never drawn (nor edited) as this one's.
 */
export function SitePage<T>(props: {
  testid: string;
  title: string;
  intro?: string;
  load: (siteId: string) => Promise<T>;
  children: (data: T, siteId: string, reload: () => void) => ComponentChildren;
}) {
  const { t } = useI18n();
  const { api } = useSession();
  const sites = useSites();
  const [siteId, setSiteId] = useChosenSite(sites.data);
  const data = useLoad(async () => (siteId ? { siteId, value: await props.load(siteId) } : null), [api, siteId]);
  return (
    <section class="admin-page" data-testid={props.testid}>
      <h1>{props.title}</h1>
      {props.intro && <p class="muted">{props.intro}</p>}
      <LoadState loaded={sites} isEmpty={(s) => s.length === 0} emptyText={t('page.no_sites')}>
        {(list) => (
          <>
            <SitePicker sites={list} value={siteId} onChange={setSiteId} />
            <LoadState loaded={data}>{(d) => d?.siteId === siteId && props.children(d.value, siteId, data.reload)}</LoadState>
          </>
        )}
      </LoadState>
    </section>
  );
}

export function Field(props: { label: string; children: ComponentChildren; hint?: string }) {
  return (
    // biome-ignore lint/a11y/noLabelWithoutControl: the control is passed in as children.
    <label class="field">
      <span>{props.label}</span>
      {props.children}
      {props.hint && <small class="muted">{props.hint}</small>}
    </label>
  );
}

export type Status = { ok: boolean; text: string } | null;

/** Runs an action once at a time; keeps its outcome to show beside the button. */
export function useAction() {
  const { t } = useI18n();
  const [status, setStatus] = useState<Status>(null);
  const [busy, setBusy] = useState(false);
  const run = async <T,>(fn: () => Promise<T>, okText: string | ((r: T) => string)): Promise<T | null> => {
    setBusy(true);
    setStatus(null);
    try {
      const r = await fn();
      setStatus({ ok: true, text: typeof okText === 'function' ? okText(r) : okText });
      return r;
    } catch (err) {
      setStatus({ ok: false, text: t('admin.error', { message: errorText(err) }) });
      return null;
    } finally {
      setBusy(false);
    }
  };
  return { status, busy, run, clear: () => setStatus(null) };
}

export function StatusLine(props: { status: Status; testid?: string }) {
  if (!props.status) return null;
  return (
    <p class={props.status.ok ? 'ok' : 'error'} role={props.status.ok ? 'status' : 'alert'} data-testid={props.testid ?? 'status'}>
      {props.status.text}
    </p>
  );
}

/** Offers `text` as a file download (CSV report, JSON export). */
export function saveFile(name: string, text: string, type: string) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** A date and time in the page's language and the browser's zone. */
export function formatTime(iso: string | null | undefined, lang: string): string {
  if (!iso) return '–';
  return new Date(iso).toLocaleString(lang, { dateStyle: 'short', timeStyle: 'short', hourCycle: 'h23' });
}

/** `<input type="datetime-local">` value for an ISO time, and back (local time of the browser). */
export function toLocalInput(iso: string): string {
  const d = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}
export function fromLocalInput(value: string): string | null {
  if (!value) return null;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
}

/** The devices behind the gateways of one site (the device list carries gateways, not sites). */
export async function siteDevices(api: { get<T>(path: string): Promise<T> }, siteId: string): Promise<Device[]> {
  const [g, d] = await Promise.all([api.get<{ gateways: Gateway[] }>('/gateways'), api.get<{ devices: Device[] }>('/devices')]);
  const here = new Set(g.gateways.filter((x) => x.siteId === siteId).map((x) => x.id));
  return d.devices.filter((x) => here.has(x.gatewayId));
}

// Administration (role admin): create sites, residents, gateways (the one-time secret is shown
// prominently) and devices, and edit a resident's alarm settings.
import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { DeviceKind } from '../../../protocol/schemas.ts';
import { translateDynamic } from '../lib/i18n.ts';
import type { Gateway, Resident, Site } from './api-types.ts';
import { useI18n, useSession } from './context.ts';
import { useLoad } from './hooks.ts';

// The kinds as a value list (the protocol's list lives beside TypeBox, which the bundle leaves out).
const DEVICE_KINDS = [
  'call_button',
  'fall_detector',
  'bed_sensor',
  'door_sensor',
  'vitals_monitor',
  'presence_sensor',
] as const satisfies readonly DeviceKind[];

type Status = { ok: boolean; text: string } | null;

function useSubmit(onDone: () => void) {
  const { t } = useI18n();
  const [status, setStatus] = useState<Status>(null);
  const [busy, setBusy] = useState(false);
  const run = async (fn: () => Promise<{ id?: string } | unknown>, okText?: string) => {
    setBusy(true);
    setStatus(null);
    try {
      const res = (await fn()) as { id?: string } | null;
      setStatus({ ok: true, text: okText ?? t('admin.created', { id: res?.id ?? '' }) });
      onDone();
      return res;
    } catch (err) {
      setStatus({ ok: false, text: t('admin.error', { message: err instanceof Error ? err.message : String(err) }) });
      return null;
    } finally {
      setBusy(false);
    }
  };
  return { status, busy, run };
}

function Form(props: {
  testid: string;
  title: string;
  onSubmit: () => void;
  busy: boolean;
  status: Status;
  children: ComponentChildren;
  submitLabel?: string;
}) {
  const { t } = useI18n();
  return (
    <form
      class="panel admin-form"
      data-testid={props.testid}
      onSubmit={(e) => {
        e.preventDefault();
        props.onSubmit();
      }}
    >
      <h2>{props.title}</h2>
      {props.children}
      <button type="submit" class="btn btn-primary" disabled={props.busy}>
        {props.submitLabel ?? t('admin.create')}
      </button>
      {props.status && <p class={props.status.ok ? 'ok' : 'error'}>{props.status.text}</p>}
    </form>
  );
}

function Field(props: { label: string; children: ComponentChildren }) {
  return (
    // biome-ignore lint/a11y/noLabelWithoutControl: the control is passed in as children.
    <label class="field">
      <span>{props.label}</span>
      {props.children}
    </label>
  );
}

const val = (e: Event) => (e.currentTarget as HTMLInputElement | HTMLSelectElement).value;
const clean = <T extends Record<string, unknown>>(o: T) =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== '' && v !== undefined));

export function Admin() {
  const { t } = useI18n();
  const { api } = useSession();
  const reg = useLoad(async () => {
    const [s, r, g] = await Promise.all([
      api.get<{ sites: Site[] }>('/sites'),
      api.get<{ residents: Resident[] }>('/residents'),
      api.get<{ gateways: Gateway[] }>('/gateways'),
    ]);
    return { sites: s.sites, residents: r.residents, gateways: g.gateways };
  }, [api]);
  const sites = reg.data?.sites ?? [];
  const residents = reg.data?.residents ?? [];
  const gateways = reg.data?.gateways ?? [];
  return (
    <section class="admin">
      <h1>{t('admin.title')}</h1>
      <div class="admin-grid">
        <SiteForm onDone={reg.reload} />
        <ResidentForm sites={sites} onDone={reg.reload} />
        <GatewayForm sites={sites} onDone={reg.reload} />
        <DeviceForm gateways={gateways} residents={residents} onDone={reg.reload} />
        <SettingsForm residents={residents} onDone={reg.reload} />
      </div>
    </section>
  );
}

function SiteSelect(props: { sites: Site[]; value: string; onChange: (v: string) => void }) {
  return (
    <select value={props.value} onChange={(e) => props.onChange(val(e))} required>
      <option value="" />
      {props.sites.map((s) => (
        <option value={s.id} key={s.id}>
          {s.name} ({s.id})
        </option>
      ))}
    </select>
  );
}

function SiteForm(props: { onDone: () => void }) {
  const { t } = useI18n();
  const { api } = useSession();
  const [f, setF] = useState({ id: '', name: '', kind: 'nursing_home', timezone: 'Asia/Shanghai' });
  const s = useSubmit(props.onDone);
  return (
    <Form
      testid="admin-site"
      title={t('admin.sites')}
      busy={s.busy}
      status={s.status}
      onSubmit={() => s.run(() => api.post('/sites', clean(f)))}
    >
      <Field label={t('admin.name')}>
        <input value={f.name} onInput={(e) => setF({ ...f, name: val(e) })} required />
      </Field>
      <Field label={t('admin.kind')}>
        <select value={f.kind} onChange={(e) => setF({ ...f, kind: val(e) })}>
          <option value="nursing_home">{t('admin.site_kind.nursing_home')}</option>
          <option value="family_bed">{t('admin.site_kind.family_bed')}</option>
        </select>
      </Field>
      <Field label={t('admin.timezone')}>
        <input value={f.timezone} onInput={(e) => setF({ ...f, timezone: val(e) })} />
      </Field>
      <Field label={t('admin.id_optional')}>
        <input value={f.id} onInput={(e) => setF({ ...f, id: val(e) })} />
      </Field>
    </Form>
  );
}

function ResidentForm(props: { sites: Site[]; onDone: () => void }) {
  const { t } = useI18n();
  const { api } = useSession();
  const [f, setF] = useState({ siteId: '', name: '', room: '', bed: '', id: '' });
  const s = useSubmit(props.onDone);
  return (
    <Form
      testid="admin-resident"
      title={t('admin.residents')}
      busy={s.busy}
      status={s.status}
      onSubmit={() => s.run(() => api.post('/residents', clean(f)))}
    >
      <Field label={t('admin.site')}>
        <SiteSelect sites={props.sites} value={f.siteId} onChange={(siteId) => setF({ ...f, siteId })} />
      </Field>
      <Field label={t('admin.name')}>
        <input value={f.name} onInput={(e) => setF({ ...f, name: val(e) })} required />
      </Field>
      <Field label={t('admin.room')}>
        <input value={f.room} onInput={(e) => setF({ ...f, room: val(e) })} required />
      </Field>
      <Field label={t('admin.bed_optional')}>
        <input value={f.bed} onInput={(e) => setF({ ...f, bed: val(e) })} />
      </Field>
      <Field label={t('admin.id_optional')}>
        <input value={f.id} onInput={(e) => setF({ ...f, id: val(e) })} />
      </Field>
    </Form>
  );
}

function GatewayForm(props: { sites: Site[]; onDone: () => void }) {
  const { t } = useI18n();
  const { api } = useSession();
  const [f, setF] = useState({ siteId: '', name: '', id: '' });
  const [secret, setSecret] = useState<{ id: string; secret: string } | null>(null);
  const s = useSubmit(props.onDone);
  const create = async () => {
    const gw = (await s.run(() => api.post('/gateways', clean(f)))) as { id: string; secret: string } | null;
    if (gw?.secret) setSecret({ id: gw.id, secret: gw.secret });
  };
  return (
    <Form testid="admin-gateway" title={t('admin.gateways')} busy={s.busy} status={s.status} onSubmit={create}>
      <Field label={t('admin.site')}>
        <SiteSelect sites={props.sites} value={f.siteId} onChange={(siteId) => setF({ ...f, siteId })} />
      </Field>
      <Field label={t('admin.name')}>
        <input value={f.name} onInput={(e) => setF({ ...f, name: val(e) })} required />
      </Field>
      <Field label={t('admin.id_optional')}>
        <input value={f.id} onInput={(e) => setF({ ...f, id: val(e) })} />
      </Field>
      {secret && (
        <div class="secret" role="alert" data-testid="gateway-secret">
          <strong>{t('admin.secret_title')}</strong>
          <div>
            CARE_GATEWAY_ID=<code>{secret.id}</code>
          </div>
          <div>
            CARE_GATEWAY_SECRET=<code class="secret-value">{secret.secret}</code>
          </div>
          <p>{t('admin.secret_help')}</p>
          <button type="button" class="btn btn-quiet" onClick={() => setSecret(null)}>
            {t('admin.secret_done')}
          </button>
        </div>
      )}
    </Form>
  );
}

function DeviceForm(props: { gateways: Gateway[]; residents: Resident[]; onDone: () => void }) {
  const { t, lang } = useI18n();
  const { api } = useSession();
  const [f, setF] = useState({ id: '', gatewayId: '', kind: 'call_button', residentId: '', room: '' });
  const s = useSubmit(props.onDone);
  const gw = props.gateways.find((g) => g.id === f.gatewayId);
  const residents = props.residents.filter((r) => !gw || r.siteId === gw.siteId);
  return (
    <Form
      testid="admin-device"
      title={t('admin.devices')}
      busy={s.busy}
      status={s.status}
      onSubmit={() => s.run(() => api.post('/devices', clean(f)))}
    >
      <Field label={t('admin.device_id')}>
        <input value={f.id} onInput={(e) => setF({ ...f, id: val(e) })} required pattern="[A-Za-z0-9_.\-]+" />
      </Field>
      <Field label={t('admin.gateway')}>
        <select value={f.gatewayId} onChange={(e) => setF({ ...f, gatewayId: val(e) })} required>
          <option value="" />
          {props.gateways.map((g) => (
            <option value={g.id} key={g.id}>
              {g.name} ({g.id})
            </option>
          ))}
        </select>
      </Field>
      <Field label={t('admin.device_kind')}>
        <select value={f.kind} onChange={(e) => setF({ ...f, kind: val(e) })}>
          {DEVICE_KINDS.map((k) => (
            <option value={k} key={k}>
              {translateDynamic(lang, `kind.${k}`, k)}
            </option>
          ))}
        </select>
      </Field>
      <Field label={t('admin.resident_optional')}>
        <select value={f.residentId} onChange={(e) => setF({ ...f, residentId: val(e) })}>
          <option value="">{t('admin.none')}</option>
          {residents.map((r) => (
            <option value={r.id} key={r.id}>
              {r.name} · {r.room}
            </option>
          ))}
        </select>
      </Field>
      <Field label={t('admin.room')}>
        <input value={f.room} onInput={(e) => setF({ ...f, room: val(e) })} />
      </Field>
    </Form>
  );
}

interface SettingsDraft {
  start: string;
  end: string;
  wanderRisk: boolean;
  bedExitReturnMinutes: string;
  inactivityMinutes: string;
}

function draftFrom(settings: unknown): SettingsDraft {
  const s = (settings ?? {}) as {
    nightWindow?: { start?: string; end?: string };
    wanderRisk?: boolean;
    bedExitReturnMinutes?: number;
    inactivityMinutes?: number;
  };
  return {
    start: s.nightWindow?.start ?? '22:00',
    end: s.nightWindow?.end ?? '06:00',
    wanderRisk: s.wanderRisk ?? false,
    bedExitReturnMinutes: String(s.bedExitReturnMinutes ?? 10),
    inactivityMinutes: String(s.inactivityMinutes ?? 240),
  };
}

function SettingsForm(props: { residents: Resident[]; onDone: () => void }) {
  const { t } = useI18n();
  const { api } = useSession();
  const [residentId, setResidentId] = useState('');
  const [d, setD] = useState<SettingsDraft>(draftFrom(undefined));
  const s = useSubmit(props.onDone);
  const resident = props.residents.find((r) => r.id === residentId);
  useEffect(() => setD(draftFrom(resident?.settings)), [resident]);
  const save = () =>
    s.run(
      () =>
        api.put(`/residents/${encodeURIComponent(residentId)}/settings`, {
          nightWindow: { start: d.start, end: d.end },
          wanderRisk: d.wanderRisk,
          bedExitReturnMinutes: Number(d.bedExitReturnMinutes),
          inactivityMinutes: Number(d.inactivityMinutes),
        }),
      t('admin.saved'),
    );
  return (
    <Form testid="admin-settings" title={t('admin.settings')} busy={s.busy} status={s.status} onSubmit={save} submitLabel={t('admin.save')}>
      <Field label={t('admin.resident')}>
        <select value={residentId} onChange={(e) => setResidentId(val(e))} required>
          <option value="" />
          {props.residents.map((r) => (
            <option value={r.id} key={r.id}>
              {r.name} · {r.room}
            </option>
          ))}
        </select>
      </Field>
      <Field label={t('admin.night_start')}>
        <input type="time" value={d.start} onInput={(e) => setD({ ...d, start: val(e) })} required />
      </Field>
      <Field label={t('admin.night_end')}>
        <input type="time" value={d.end} onInput={(e) => setD({ ...d, end: val(e) })} required />
      </Field>
      <label class="field field-check">
        <input type="checkbox" checked={d.wanderRisk} onChange={(e) => setD({ ...d, wanderRisk: e.currentTarget.checked })} />
        <span>{t('admin.wander_risk')}</span>
      </label>
      <Field label={t('admin.bed_exit_minutes')}>
        <input
          type="number"
          min={1}
          max={240}
          value={d.bedExitReturnMinutes}
          onInput={(e) => setD({ ...d, bedExitReturnMinutes: val(e) })}
          required
        />
      </Field>
      <Field label={t('admin.inactivity_minutes')}>
        <input
          type="number"
          min={5}
          max={2880}
          value={d.inactivityMinutes}
          onInput={(e) => setD({ ...d, inactivityMinutes: val(e) })}
          required
        />
      </Field>
    </Form>
  );
}

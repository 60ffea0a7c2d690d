// Sites, residents and devices (#/admin/registry): each listed with an edit form (a site's name and
// time zone, a resident's room or bed and alarm settings, a device's gateway, resident and room)
// and a form to add one. Every form is drawn from the server's own schema for that request.
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { translateDynamic } from '../../lib/i18n.ts';
import type { Device, Resident, Site } from '../api-types.ts';
import { useI18n, useSession } from '../context.ts';
import { ApiForm } from '../forms/ApiForm.tsx';
import { LoadState } from '../pages/common.tsx';
import { gatewayChoices, type RegistryData, residentChoices, siteChoices, siteName, useRegistryData } from './registry-data.ts';

/** A site's place in the community (areas, map, grid worker) is set on the centre's pages. */
const SITE_HOME = ['areaId', 'address', 'lat', 'lon', 'gridWorkerId'] as const;
/** Settings with pages of their own (vital-sign limits, confirmation delays, 24-hour watch, home zone). */
const SETTINGS_ELSEWHERE = ['vitals', 'vitalsClearAfterSeconds', 'confirmDelaySeconds', 'dailyLiving', 'homeZone'] as const;

export function RegistryPage() {
  const { t } = useI18n();
  const reg = useRegistryData();
  return (
    <section class="admin" data-testid="registry-page">
      <h1>{t('registry.title')}</h1>
      <LoadState loaded={reg}>{(data) => <Registry data={data} reload={reg.reload} />}</LoadState>
    </section>
  );
}

function Registry(props: { data: RegistryData; reload: () => void }) {
  const { t } = useI18n();
  const { api } = useSession();
  const { data, reload } = props;
  const created = (x: unknown) => t('admin.created', { id: (x as { id: string }).id });
  const post = (path: string) => async (body: Record<string, unknown>) => {
    const res = await api.post(path, body);
    reload();
    return res;
  };
  return (
    <div class="registry">
      <h2>{t('admin.sites')}</h2>
      <div class="admin-split">
        <List empty={t('registry.no_sites')} testid="site-list">
          {data.sites.map((s) => (
            <SiteRow key={s.id} site={s} onSaved={reload} />
          ))}
        </List>
        <ApiForm
          route="POST /api/v1/sites"
          labels="field.site"
          title={t('registry.add_site')}
          testid="site-form"
          submitLabel={t('admin.create')}
          omit={SITE_HOME}
          optionLabels={{ kind: 'admin.site_kind.' }}
          resetOnDone
          onSubmit={post('/sites')}
          done={created}
        />
      </div>

      <h2>{t('admin.residents')}</h2>
      <div class="admin-split">
        <List empty={t('registry.no_residents')} testid="resident-list">
          {data.residents.map((r) => (
            <ResidentRow key={r.id} resident={r} site={siteName(data, r.siteId)} onSaved={reload} />
          ))}
        </List>
        {data.sites.length > 0 && (
          <ApiForm
            route="POST /api/v1/residents"
            labels="field.resident"
            title={t('registry.add_resident')}
            testid="resident-form"
            submitLabel={t('admin.create')}
            omit={['settings']}
            choices={{ siteId: siteChoices(data) }}
            resetOnDone
            onSubmit={post('/residents')}
            done={created}
          />
        )}
      </div>

      <h2>{t('admin.devices')}</h2>
      <div class="admin-split">
        <List empty={t('registry.no_devices')} testid="device-list">
          {data.devices.map((d) => (
            <DeviceRow key={d.id} device={d} data={data} onSaved={reload} />
          ))}
        </List>
        {data.gateways.length > 0 && (
          <ApiForm
            route="POST /api/v1/devices"
            labels="field.device"
            title={t('registry.add_device')}
            testid="device-form"
            submitLabel={t('admin.create')}
            choices={{ gatewayId: gatewayChoices(data), residentId: residentChoices(data) }}
            optionLabels={{ kind: 'kind.' }}
            resetOnDone
            onSubmit={post('/devices')}
            done={created}
          />
        )}
      </div>
    </div>
  );
}

function List(props: { empty: string; testid: string; children: ComponentChildren[] }) {
  return (
    <div class="panel">
      {props.children.length === 0 ? (
        <p class="empty" data-testid="empty">
          {props.empty}
        </p>
      ) : (
        <ul class="admin-list" data-testid={props.testid}>
          {props.children}
        </ul>
      )}
    </div>
  );
}

/** A row with its details and an Edit button that opens the edit forms under it. */
function Row(props: { testid: string; id: string; main: ComponentChildren; forms: () => ComponentChildren }) {
  const { t } = useI18n();
  const [open, setOpen] = useState(false);
  return (
    <li class="admin-row" data-testid={props.testid} data-id={props.id}>
      <div class="admin-row-main">{props.main}</div>
      <button type="button" class="btn btn-quiet" aria-expanded={open} onClick={() => setOpen(!open)} data-testid="row-edit">
        {open ? t('form.cancel') : t('admin.edit')}
      </button>
      {open && <div class="admin-edit">{props.forms()}</div>}
    </li>
  );
}

function SiteRow(props: { site: Site; onSaved: () => void }) {
  const { t, lang } = useI18n();
  const { api } = useSession();
  const s = props.site;
  return (
    <Row
      testid="site-row"
      id={s.id}
      main={
        <>
          <strong>{s.name}</strong> <span class="muted">({s.id})</span>
          <div class="muted">
            {translateDynamic(lang, `admin.site_kind.${s.kind}`, s.kind)} · {s.timezone}
          </div>
        </>
      }
      forms={() => (
        <ApiForm
          route="PATCH /api/v1/sites/:id"
          labels="field.site"
          value={s}
          edit
          optionLabels={{ kind: 'admin.site_kind.' }}
          onSubmit={async (body) => {
            const res = await api.patch(`/sites/${encodeURIComponent(s.id)}`, body);
            props.onSaved();
            return res;
          }}
          done={() => t('admin.saved')}
        />
      )}
    />
  );
}

function ResidentRow(props: { resident: Resident; site: string; onSaved: () => void }) {
  const { t } = useI18n();
  const { api } = useSession();
  const r = props.resident;
  const path = `/residents/${encodeURIComponent(r.id)}`;
  return (
    <Row
      testid="resident-row"
      id={r.id}
      main={
        <>
          <strong>{r.name}</strong> <span class="muted">({r.id})</span>
          <div class="muted">
            {t('registry.room_bed', { room: r.room, bed: r.bed ?? '—' })} · {props.site}
          </div>
        </>
      }
      forms={() => (
        <>
          <ApiForm
            route="PATCH /api/v1/residents/:id"
            labels="field.resident"
            title={t('registry.edit_resident')}
            value={r}
            omit={['settings']}
            edit
            onSubmit={async (body) => {
              const res = await api.patch(path, body);
              props.onSaved();
              return res;
            }}
          >
            <p class="muted">{t('registry.move_help')}</p>
          </ApiForm>
          <ApiForm
            route="PUT /api/v1/residents/:id/settings"
            labels="field.settings"
            title={t('admin.settings')}
            value={(r.settings ?? {}) as Record<string, unknown>}
            omit={SETTINGS_ELSEWHERE}
            onSubmit={async (body) => {
              const res = await api.put(`${path}/settings`, body);
              props.onSaved();
              return res;
            }}
          />
        </>
      )}
    />
  );
}

function DeviceRow(props: { device: Device; data: RegistryData; onSaved: () => void }) {
  const { t, lang } = useI18n();
  const { api } = useSession();
  const d = props.device;
  const gw = props.data.gateways.find((g) => g.id === d.gatewayId);
  const resident = props.data.residents.find((r) => r.id === d.residentId);
  return (
    <Row
      testid="device-row"
      id={d.id}
      main={
        <>
          <strong>{d.id}</strong> <span class="muted">{translateDynamic(lang, `kind.${d.kind}`, d.kind)}</span>
          <div class="muted">
            {gw?.name ?? d.gatewayId} · {resident ? resident.name : t('registry.unassigned')}
            {d.room && ` · ${t('registry.room', { room: d.room })}`}
          </div>
        </>
      }
      forms={() => (
        <ApiForm
          route="PATCH /api/v1/devices/:id"
          labels="field.device"
          title={t('registry.edit_device')}
          value={d}
          edit
          choices={{
            gatewayId: gatewayChoices(props.data),
            residentId: residentChoices(props.data, gw?.siteId),
          }}
          onSubmit={async (body) => {
            const res = await api.patch(`/devices/${encodeURIComponent(d.id)}`, body);
            props.onSaved();
            return res;
          }}
        >
          <p class="muted">{t('registry.reassign_help')}</p>
        </ApiForm>
      )}
    />
  );
}

// Device supervision of a site: how long a device may stay silent before it is flagged offline (its
// own interval, else its kind's default), and the commissioning grace a newly registered gateway or
// device gets before it is first heard (GET/PUT /api/v1/sites/:id/supervision). A device's own
// interval is edited where the server offers it (PATCH /api/v1/devices/:id with supervisionSeconds).
import { useState } from 'preact/hooks';
import type { Device, SupervisionSettings } from '../../../../protocol/api.ts';
import { translateDynamic } from '../../lib/i18n.ts';
import { useI18n, useSession } from '../context.ts';
import { bodySchemas } from '../forms/ApiForm.tsx';
import { Field, SitePage, StatusLine, siteDevices, useAction, val } from './common.tsx';

const minutes = (s: number | null | undefined) => (s === null || s === undefined ? '' : String(Math.round(s / 60)));

export function SupervisionPage() {
  const { t } = useI18n();
  const { api } = useSession();
  return (
    <SitePage
      testid="page-supervision"
      title={t('sup.title')}
      intro={t('sup.intro')}
      load={async (siteId) => {
        const [settings, devices, schemas] = await Promise.all([
          api.get<SupervisionSettings>(`/sites/${encodeURIComponent(siteId)}/supervision`),
          siteDevices(api, siteId),
          bodySchemas(api).catch(() => ({}) as Record<string, { properties?: Record<string, unknown> }>),
        ]);
        const patch = schemas['PATCH /api/v1/devices/:id'];
        return { settings, devices, editable: Boolean(patch?.properties?.supervisionSeconds) };
      }}
    >
      {(d, siteId, reload) => (
        <div class="admin-grid">
          <Grace key={siteId} siteId={siteId} settings={d.settings} onDone={reload} />
          <div class="panel table-wrap">
            <h2>{t('sup.devices')}</h2>
            {d.devices.length === 0 ? (
              <p class="muted" data-testid="empty">
                {t('tests.no_devices')}
              </p>
            ) : (
              <table class="table">
                <thead>
                  <tr>
                    <th>{t('admin.device_id')}</th>
                    <th>{t('sup.interval')}</th>
                  </tr>
                </thead>
                <tbody>
                  {d.devices.map((dev) => (
                    <DeviceInterval device={dev} editable={d.editable} key={dev.id} onDone={reload} />
                  ))}
                </tbody>
              </table>
            )}
          </div>
        </div>
      )}
    </SitePage>
  );
}

function Grace(props: { siteId: string; settings: SupervisionSettings; onDone: () => void }) {
  const { t } = useI18n();
  const { api } = useSession();
  const [value, setValue] = useState(props.settings.default ? '' : String(props.settings.commissioningGraceMinutes));
  const a = useAction();
  const save = async (v: number | null) => {
    const ok = await a.run(
      () => api.put(`/sites/${encodeURIComponent(props.siteId)}/supervision`, { commissioningGraceMinutes: v }),
      t('admin.saved'),
    );
    if (ok) props.onDone();
  };
  return (
    <form
      class="panel admin-form"
      data-testid="sup-grace"
      onSubmit={(e) => {
        e.preventDefault();
        void save(value.trim() === '' ? null : Number(value));
      }}
    >
      <h2>{t('sup.grace')}</h2>
      <p class="muted">{t('sup.grace_hint')}</p>
      <Field
        label={t('sup.grace_minutes')}
        hint={props.settings.default ? t('sup.grace_default', { n: props.settings.commissioningGraceMinutes }) : undefined}
      >
        <input
          type="number"
          min={0}
          max={43200}
          value={value}
          placeholder={String(props.settings.commissioningGraceMinutes)}
          onInput={(e) => setValue(val(e))}
          data-testid="sup-grace-minutes"
        />
      </Field>
      <div class="form-actions">
        <button type="submit" class="btn btn-primary" disabled={a.busy} data-testid="sup-grace-save">
          {t('admin.save')}
        </button>
        {!props.settings.default && (
          <button type="button" class="btn btn-quiet" disabled={a.busy} onClick={() => void save(null)}>
            {t('sup.use_default')}
          </button>
        )}
      </div>
      <StatusLine status={a.status} />
    </form>
  );
}

function DeviceInterval(props: { device: Device; editable: boolean; onDone: () => void }) {
  const { t, lang } = useI18n();
  const { api } = useSession();
  const [value, setValue] = useState(minutes(props.device.supervisionSeconds));
  const a = useAction();
  const own = props.device.supervisionSeconds;
  return (
    <tr data-testid="sup-device" data-device-id={props.device.id}>
      <th>
        {props.device.id}
        <div class="muted small">{translateDynamic(lang, `kind.${props.device.kind}`, props.device.kind)}</div>
      </th>
      <td>
        {props.editable ? (
          <form
            class="inline"
            onSubmit={(e) => {
              e.preventDefault();
              const v = value.trim() === '' ? null : Math.round(Number(value) * 60);
              void a
                .run(() => api.patch(`/devices/${encodeURIComponent(props.device.id)}`, { supervisionSeconds: v }), t('admin.saved'))
                .then((ok) => ok && props.onDone());
            }}
          >
            <input
              type="number"
              min={1}
              max={10080}
              class="narrow"
              value={value}
              placeholder={t('sup.kind_default')}
              onInput={(e) => setValue(val(e))}
              aria-label={t('sup.interval')}
            />
            <span class="muted"> {t('sup.minutes')} </span>
            <button type="submit" class="btn btn-quiet" disabled={a.busy}>
              {t('admin.save')}
            </button>
            <StatusLine status={a.status} />
          </form>
        ) : own ? (
          t('sup.own_minutes', { n: minutes(own) })
        ) : (
          t('sup.kind_default')
        )}
      </td>
    </tr>
  );
}

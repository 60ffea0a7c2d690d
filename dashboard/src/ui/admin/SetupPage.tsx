// First run (#/admin/setup, opened by itself while there is no site): the site, its gateway (the
// secret and settings to copy), the first residents and devices, then a device test alarm that
// proves the chain from the device to this screen. Each step uses the same forms as the registry.
import { useEffect, useState } from 'preact/hooks';
import type { MessageKey } from '../../lib/i18n.ts';
import type { Device, Gateway, Resident, Site } from '../api-types.ts';
import { useI18n, useSession } from '../context.ts';
import { ApiForm } from '../forms/ApiForm.tsx';
import { errorText } from '../pages/common.tsx';
import { GatewaySecret, type IssuedSecret } from './GatewaySecret.tsx';

const STEPS: MessageKey[] = ['setup.step_site', 'setup.step_gateway', 'setup.step_residents', 'setup.step_devices', 'setup.step_test'];
const SITE_HOME = ['areaId', 'address', 'lat', 'lon', 'gridWorkerId'] as const;

interface TestRun {
  id: string;
  result: string;
  alarmId?: string | null;
}

export function SetupPage() {
  const { t } = useI18n();
  const { api } = useSession();
  const [step, setStep] = useState(0);
  const [site, setSite] = useState<Site | null>(null);
  const [gateway, setGateway] = useState<Gateway | null>(null);
  const [issued, setIssued] = useState<IssuedSecret | null>(null);
  const [residents, setResidents] = useState<Resident[]>([]);
  const [devices, setDevices] = useState<Device[]>([]);

  return (
    <section class="admin setup" data-testid="setup-page">
      <h1>{t('setup.title')}</h1>
      <p class="muted">{t('setup.intro')}</p>
      <ol class="setup-steps">
        {STEPS.map((k, i) => (
          <li key={k} class={i < step ? 'done' : undefined} aria-current={i === step ? 'step' : undefined}>
            {i + 1}. {t(k)}
          </li>
        ))}
      </ol>

      {step === 0 && (
        <ApiForm
          route="POST /api/v1/sites"
          labels="field.site"
          title={t('setup.step_site')}
          testid="setup-site"
          submitLabel={t('setup.next')}
          omit={SITE_HOME}
          optionLabels={{ kind: 'admin.site_kind.' }}
          value={{ kind: 'nursing_home', timezone: Intl.DateTimeFormat().resolvedOptions().timeZone }}
          onSubmit={async (body) => {
            setSite(await api.post<Site>('/sites', body));
            setStep(1);
          }}
        />
      )}

      {step === 1 &&
        site &&
        (!gateway ? (
          <ApiForm
            route="POST /api/v1/gateways"
            labels="field.gateway"
            title={t('setup.step_gateway')}
            testid="setup-gateway"
            submitLabel={t('gw.register')}
            omit={['siteId']}
            value={{ name: t('setup.gateway_name') }}
            onSubmit={async (body) => {
              const g = await api.post<Gateway & { secret: string }>('/gateways', { ...body, siteId: site.id });
              setGateway(g);
              setIssued({ id: g.id, siteId: g.siteId, secret: g.secret });
            }}
          >
            <p class="muted">{t('setup.gateway_help')}</p>
          </ApiForm>
        ) : (
          issued && (
            <GatewaySecret
              issued={issued}
              onDone={() => {
                setIssued(null);
                setStep(2);
              }}
            />
          )
        ))}

      {step === 2 && site && (
        <div class="admin-split">
          <ApiForm
            route="POST /api/v1/residents"
            labels="field.resident"
            title={t('setup.step_residents')}
            testid="setup-resident"
            submitLabel={t('setup.add')}
            omit={['siteId', 'settings']}
            resetOnDone
            onSubmit={async (body) => {
              const r = await api.post<Resident>('/residents', { ...body, siteId: site.id });
              setResidents((list) => [...list, r]);
              return r;
            }}
            done={(r) => t('admin.created', { id: (r as Resident).name })}
          />
          <Added items={residents.map((r) => `${r.name} · ${r.room}`)} onNext={() => setStep(3)} />
        </div>
      )}

      {step === 3 && gateway && (
        <div class="admin-split">
          <ApiForm
            route="POST /api/v1/devices"
            labels="field.device"
            title={t('setup.step_devices')}
            testid="setup-device"
            submitLabel={t('setup.add')}
            omit={['gatewayId']}
            optionLabels={{ kind: 'kind.' }}
            choices={{ residentId: residents.map((r) => ({ value: r.id, label: `${r.name} · ${r.room}` })) }}
            resetOnDone
            onSubmit={async (body) => {
              const d = await api.post<Device>('/devices', { ...body, gatewayId: gateway.id });
              setDevices((list) => [...list, d]);
              return d;
            }}
            done={(d) => t('admin.created', { id: (d as Device).id })}
          />
          <Added items={devices.map((d) => d.id)} onNext={() => setStep(4)} nextDisabled={devices.length === 0} />
        </div>
      )}

      {step === 4 && <TestStep devices={devices} />}
    </section>
  );
}

function Added(props: { items: string[]; onNext: () => void; nextDisabled?: boolean }) {
  const { t } = useI18n();
  return (
    <div class="panel">
      <h2>{t('setup.added')}</h2>
      {props.items.length === 0 ? (
        <p class="empty">{t('setup.none_yet')}</p>
      ) : (
        <ul data-testid="setup-added">
          {props.items.map((x) => (
            <li key={x}>{x}</li>
          ))}
        </ul>
      )}
      <button type="button" class="btn btn-primary" onClick={props.onNext} disabled={props.nextDisabled} data-testid="setup-next">
        {t('setup.next')}
      </button>
    </div>
  );
}

/** Starts a device test and follows it until the device's alarm arrives (passed) or the window ends. */
function TestStep(props: { devices: Device[] }) {
  const { t } = useI18n();
  const { api } = useSession();
  const [deviceId, setDeviceId] = useState(props.devices[0]?.id ?? '');
  const [run, setRun] = useState<TestRun | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    if (run?.result !== 'pending') return;
    const timer = setInterval(async () => {
      try {
        const { tests } = await api.get<{ tests: TestRun[] }>(`/devices/${encodeURIComponent(deviceId)}/tests`);
        const now = tests.find((x) => x.id === run.id);
        if (now && now.result !== 'pending') setRun(now);
      } catch (err) {
        setError(errorText(err));
      }
    }, 1500);
    return () => clearInterval(timer);
  }, [api, run, deviceId]);

  const start = async () => {
    setBusy(true);
    setError(null);
    try {
      setRun(await api.post<TestRun>(`/devices/${encodeURIComponent(deviceId)}/test`, { windowSeconds: 300 }));
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div class="panel admin-form" data-testid="setup-test">
      <h2>{t('setup.step_test')}</h2>
      <p>{t('setup.test_help')}</p>
      <label class="field">
        <span>{t('field.device.id')}</span>
        <select value={deviceId} onChange={(e) => setDeviceId(e.currentTarget.value)} disabled={run?.result === 'pending'}>
          {props.devices.map((d) => (
            <option key={d.id} value={d.id}>
              {d.id}
            </option>
          ))}
        </select>
      </label>
      <button
        type="button"
        class="btn btn-primary"
        onClick={start}
        disabled={busy || !deviceId || run?.result === 'pending'}
        data-testid="setup-start-test"
      >
        {t('setup.start_test')}
      </button>
      {run?.result === 'pending' && (
        <p class="notice" role="status" data-testid="setup-test-waiting">
          {t('setup.test_waiting', { device: deviceId })}
        </p>
      )}
      {run?.result === 'passed' && (
        <div class="ok" role="status" data-testid="setup-test-passed">
          <p>{t('setup.test_passed', { device: deviceId })}</p>
          <a class="btn btn-primary" href="#/board">
            {t('setup.to_board')}
          </a>
        </div>
      )}
      {run && run.result !== 'pending' && run.result !== 'passed' && (
        <p class="error" role="alert" data-testid="setup-test-failed">
          {t('setup.test_failed', { device: deviceId })}
        </p>
      )}
      {error && (
        <p class="error" role="alert">
          {t('admin.error', { message: error })}
        </p>
      )}
    </div>
  );
}

// Device tests of a site: start a test of one device (the next alarm from it within the window is a
// test alarm and passes), each device's past results, and the weekly check that tests every alarm
// button of the site at a set hour (GET/PUT /api/v1/sites/:id/test-schedule).
import { useState } from 'preact/hooks';
import type { Device, TestSchedule } from '../../../../protocol/api.ts';
import { translateDynamic } from '../../lib/i18n.ts';
import { useI18n, useSession } from '../context.ts';
import { useLoad } from '../hooks.ts';
import { Field, formatTime, LoadState, SitePage, StatusLine, siteDevices, useAction, val } from './common.tsx';

interface DeviceTest {
  id: string;
  startedAt: string;
  dueAt: string;
  result: string;
  finishedAt: string | null;
  alarmId: string | null;
  by: string;
}
const WEEKDAYS = [0, 1, 2, 3, 4, 5, 6];

export function DeviceTestsPage() {
  const { t } = useI18n();
  const { api } = useSession();
  return (
    <SitePage
      testid="page-tests"
      title={t('tests.title')}
      intro={t('tests.intro')}
      load={async (siteId) => {
        const [devices, schedule] = await Promise.all([
          siteDevices(api, siteId),
          api.get<{ schedule: TestSchedule | null; lastRun: string | null }>(`/sites/${encodeURIComponent(siteId)}/test-schedule`),
        ]);
        return { devices, schedule };
      }}
    >
      {(d, siteId, reload) => (
        <div class="admin-grid">
          <Schedule key={siteId} siteId={siteId} current={d.schedule.schedule} lastRun={d.schedule.lastRun} onDone={reload} />
          <div class="panel">
            <h2>{t('tests.devices')}</h2>
            {d.devices.length === 0 ? (
              <p class="muted" data-testid="empty">
                {t('tests.no_devices')}
              </p>
            ) : (
              <ul class="rows">
                {d.devices.map((dev) => (
                  <DeviceRow device={dev} key={dev.id} />
                ))}
              </ul>
            )}
          </div>
        </div>
      )}
    </SitePage>
  );
}

function DeviceRow(props: { device: Device }) {
  const { t, lang } = useI18n();
  const { api } = useSession();
  const [open, setOpen] = useState(false);
  const [windowMinutes, setWindowMinutes] = useState('5');
  const [tick, setTick] = useState(0);
  const start = useAction();
  const path = `/devices/${encodeURIComponent(props.device.id)}`;
  const results = useLoad(async () => (open ? (await api.get<{ tests: DeviceTest[] }>(`${path}/tests`)).tests : null), [api, open, tick]);
  const begin = async () => {
    const r = await start.run(
      () => api.post<DeviceTest>(`${path}/test`, { windowSeconds: Math.round(Number(windowMinutes) * 60) }),
      (x) => t('tests.started', { due: formatTime(x.dueAt, lang) }),
    );
    if (r) {
      setOpen(true);
      setTick((n) => n + 1);
    }
  };
  return (
    <li class="row row-wrap" data-testid="test-device" data-device-id={props.device.id}>
      <div>
        <strong>{props.device.id}</strong>{' '}
        <span class="muted">{translateDynamic(lang, `kind.${props.device.kind}`, props.device.kind)}</span>
        {props.device.room && <span class="muted"> · {props.device.room}</span>}
      </div>
      <span class="row-actions">
        <label class="inline">
          <span>{t('tests.window')}</span>
          <input type="number" min={1} max={60} value={windowMinutes} onInput={(e) => setWindowMinutes(val(e))} class="narrow" />
        </label>
        <button type="button" class="btn btn-primary" disabled={start.busy} onClick={() => void begin()} data-testid="test-start">
          {t('tests.start')}
        </button>
        <button type="button" class="btn btn-quiet" onClick={() => setOpen(!open)} aria-expanded={open} data-testid="test-results-toggle">
          {t('tests.results')}
        </button>
      </span>
      <StatusLine status={start.status} />
      {open && (
        <div class="row-detail">
          <LoadState loaded={results} isEmpty={(r) => r !== null && r.length === 0} emptyText={t('tests.no_results')}>
            {(r) =>
              r && (
                <table class="table" data-testid="test-results">
                  <thead>
                    <tr>
                      <th>{t('tests.started_at')}</th>
                      <th>{t('tests.result')}</th>
                      <th>{t('tests.by')}</th>
                    </tr>
                  </thead>
                  <tbody>
                    {r.map((x) => (
                      <tr key={x.id} data-result={x.result}>
                        <td>{formatTime(x.startedAt, lang)}</td>
                        <td class={`result result-${x.result}`}>{translateDynamic(lang, `tests.result.${x.result}`, x.result)}</td>
                        <td>{x.by}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )
            }
          </LoadState>
        </div>
      )}
    </li>
  );
}

function Schedule(props: { siteId: string; current: TestSchedule | null; lastRun: string | null; onDone: () => void }) {
  const { t, lang } = useI18n();
  const { api } = useSession();
  const [f, setF] = useState({
    weekday: String(props.current?.weekday ?? 1),
    time: props.current?.time ?? '10:00',
    windowMinutes: String(Math.round((props.current?.windowSeconds ?? 900) / 60)),
  });
  const a = useAction();
  const dayName = (d: number) => new Date(Date.UTC(2026, 10, 1 + d)).toLocaleDateString(lang, { weekday: 'long', timeZone: 'UTC' });
  const submit = async () => {
    const r = await a.run(
      () =>
        api.put(`/sites/${encodeURIComponent(props.siteId)}/test-schedule`, {
          weekday: Number(f.weekday),
          time: f.time,
          windowSeconds: Math.round(Number(f.windowMinutes) * 60),
          kinds: props.current?.kinds ?? ['call_button'],
        }),
      t('admin.saved'),
    );
    if (r) props.onDone();
  };
  return (
    <form
      class="panel admin-form"
      data-testid="test-schedule"
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
    >
      <h2>{t('tests.schedule')}</h2>
      <p class="muted" data-testid="test-schedule-now">
        {props.current
          ? t('tests.schedule_now', { day: dayName(props.current.weekday), time: props.current.time })
          : t('tests.schedule_none')}
        {props.lastRun && ` · ${t('tests.last_run', { at: formatTime(props.lastRun, lang) })}`}
      </p>
      <Field label={t('tests.weekday')}>
        <select value={f.weekday} onChange={(e) => setF({ ...f, weekday: val(e) })} data-testid="schedule-weekday">
          {WEEKDAYS.map((d) => (
            <option value={String(d)} key={d}>
              {dayName(d)}
            </option>
          ))}
        </select>
      </Field>
      <Field label={t('tests.time')}>
        <input type="time" value={f.time} onInput={(e) => setF({ ...f, time: val(e) })} required data-testid="schedule-time" />
      </Field>
      <Field label={t('tests.window')}>
        <input type="number" min={1} max={60} value={f.windowMinutes} onInput={(e) => setF({ ...f, windowMinutes: val(e) })} required />
      </Field>
      <button type="submit" class="btn btn-primary" disabled={a.busy} data-testid="schedule-save">
        {t('admin.save')}
      </button>
      <StatusLine status={a.status} />
    </form>
  );
}

// A resident's page: who and where, their devices, recent alarms with each one's history, and
// vital-sign charts over 1 h / 24 h / 7 d.
import { useMemo, useState } from 'preact/hooks';
import type { Alarm } from '../../../protocol/schemas.ts';
import type { FeedState } from '../lib/feed-state.ts';
import { deviceHealth } from '../lib/health.ts';
import { translateDynamic } from '../lib/i18n.ts';
import { CHART_METRICS, groupSeries, RANGES, type RangeKey, rangeWindow, type TelemetryPoint } from '../lib/series.ts';
import { formatAgo } from '../lib/timeago.ts';
import type { Device, Resident } from './api-types.ts';
import { Chart } from './Chart.tsx';
import { useI18n, useSession } from './context.ts';
import { useLoad, useNow } from './hooks.ts';
import { SleepPanel } from './SleepPanel.tsx';
import { WatchPanel } from './WatchPanel.tsx';

const COLORS: Record<string, string> = {
  heart_rate: '#ef5350',
  resp_rate: '#4fc3f7',
  spo2: '#66bb6a',
  bp_systolic: '#ffa726',
  bp_diastolic: '#ffcc80',
  temperature: '#ab47bc',
  glucose: '#26c6da',
};

export function ResidentPage(props: { id: string; feed: FeedState }) {
  const { t, lang } = useI18n();
  const { api } = useSession();
  const now = useNow(5000);
  const [range, setRange] = useState<RangeKey>('24h');
  const [openAlarm, setOpenAlarm] = useState<string | null>(null);
  const id = encodeURIComponent(props.id);

  const resident = useLoad(() => api.get<Resident>(`/residents/${id}`), [api, id]);
  const devices = useLoad(() => api.get<{ devices: Device[] }>(`/devices?residentId=${id}`).catch(() => ({ devices: [] })), [api, id]);
  // Reload the alarm list when the feed changes one of this resident's alarms.
  const feedKey = [...props.feed.alarms.values()]
    .filter((a) => a.residentId === props.id)
    .map((a) => `${a.id}:${a.state}:${a.count}`)
    .join(',');
  const alarms = useLoad(() => api.get<{ alarms: Alarm[] }>(`/alarms?residentId=${id}&limit=50`), [api, id, feedKey]);
  const telemetry = useLoad(() => {
    const w = rangeWindow(range, Date.now());
    return api.get<{ points: TelemetryPoint[] }>(`/residents/${id}/telemetry?from=${w.from}&to=${w.to}`);
  }, [api, id, range]);
  const series = useMemo(() => groupSeries(telemetry.data?.points ?? []), [telemetry.data]);

  const r = resident.data;
  if (!r) return <p class="empty">{resident.error ? t('admin.error', { message: resident.error }) : t('app.loading')}</p>;
  const recent = [...(alarms.data?.alarms ?? [])].sort((a, b) => Date.parse(b.raisedAt) - Date.parse(a.raisedAt));
  const metrics = CHART_METRICS.filter((m) => series.has(m));
  return (
    <section class="resident">
      <a href="#/overview" class="back">
        ← {t('resident.back')}
      </a>
      <h1 class="resident-name">
        {r.name}{' '}
        <span class="resident-where">
          {t('card.room', { room: r.room })}
          {r.bed ? ` · ${t('card.bed', { bed: r.bed })}` : ''}
        </span>
      </h1>
      <ul class="resident-devices">
        {(devices.data?.devices ?? []).map((d) => {
          const h = deviceHealth(d, props.feed.devices.get(d.id), props.feed.alarms.values());
          return (
            <li class={`dev dev-${h.condition}`} key={d.id}>
              <span class="dot" aria-hidden="true" />
              {translateDynamic(lang, `kind.${d.kind}`, d.kind)} ({d.id}) · {t(`device.${h.condition}`)}
              {h.battery !== null && ` · ${t('device.battery', { pct: Math.round(h.battery) })}`}
              {h.lastSeen && ` · ${t('device.last_seen', { ago: formatAgo(h.lastSeen, now, lang) })}`}
            </li>
          );
        })}
      </ul>

      <div class="resident-grid">
        <div class="panel">
          <div class="panel-head">
            <h2>{t('resident.vitals')}</h2>
            <div class="ranges">
              {(Object.keys(RANGES) as RangeKey[]).map((k) => (
                <button type="button" key={k} class={k === range ? 'btn btn-range current' : 'btn btn-range'} onClick={() => setRange(k)}>
                  {t(`range.${k}`)}
                </button>
              ))}
            </div>
          </div>
          {metrics.length === 0 && <p class="muted">{telemetry.loading ? t('app.loading') : t('resident.no_data')}</p>}
          {metrics.map((m) => {
            const s = series.get(m);
            return s ? <Chart key={m} title={t(`metric.${m}`)} xs={s[0]} ys={s[1]} color={COLORS[m]} lang={lang} /> : null;
          })}
        </div>
        <SleepPanel residentId={props.id} />
        {(devices.data?.devices ?? []).some((d) => d.kind === 'gps_watch') && (
          <WatchPanel resident={r} now={now} onSaved={resident.reload} />
        )}
        <div class="panel">
          <h2>{t('resident.alarms')}</h2>
          {recent.length === 0 && <p class="muted">{t('resident.no_alarms')}</p>}
          <ul class="alarm-list">
            {recent.map((a) => (
              <li key={a.id} class={`alarm-row prio-${a.priority} state-${a.state}`}>
                <button type="button" class="alarm-row-head" onClick={() => setOpenAlarm(openAlarm === a.id ? null : a.id)}>
                  <span class={`prio-badge prio-badge-${a.priority}`}>{t(`priority.${a.priority}`)}</span>
                  <strong>{translateDynamic(lang, `alarm.${a.type}`, a.type)}</strong>
                  {a.count > 1 && <span>×{a.count}</span>}
                  <span class={`state-tag state-tag-${a.state}`}>{t(`state.${a.state}`)}</span>
                  {a.outcome && <span>{translateDynamic(lang, `outcome.${a.outcome}`, a.outcome)}</span>}
                  <span class="muted">{new Date(a.raisedAt).toLocaleString(lang)}</span>
                </button>
                {openAlarm === a.id && <AlarmHistory id={a.id} />}
              </li>
            ))}
          </ul>
        </div>
      </div>
    </section>
  );
}

function AlarmHistory(props: { id: string }) {
  const { t, lang } = useI18n();
  const { api } = useSession();
  const h = useLoad(
    () =>
      api.get<{ alarm: Alarm; history: Array<{ at: string; actor: string; action: string; detail: unknown }> }>(
        `/alarms/${encodeURIComponent(props.id)}`,
      ),
    [api, props.id],
  );
  if (!h.data) return <p class="muted">{t('app.loading')}</p>;
  return (
    <div class="history">
      <h3>{t('resident.history')}</h3>
      <ol>
        {h.data.history.map((e) => (
          <li key={`${e.at}-${e.action}`}>
            <span class="muted">{new Date(e.at).toLocaleString(lang)}</span> {translateDynamic(lang, `history.${e.action}`, e.action)} ·{' '}
            {e.actor}
            {h.data?.alarm.note && e.action === 'resolved' ? ` · ${h.data.alarm.note}` : ''}
          </li>
        ))}
      </ol>
    </div>
  );
}

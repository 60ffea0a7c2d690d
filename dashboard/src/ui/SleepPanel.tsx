// A resident's sleep report (睡眠报告): last night in detail and the week's nights, from
// GET /api/v1/residents/{id}/sleep (server/http/sleep.ts). Shown only when there is a night to show.
import type { SleepReport } from '../../../protocol/api.ts';
import { useI18n, useSession } from './context.ts';
import { useLoad } from './hooks.ts';

const hm = (minutes: number) => `${Math.floor(minutes / 60)}:${String(Math.round(minutes % 60)).padStart(2, '0')}`;
const time = (iso: string | null, lang: string) =>
  iso ? new Date(iso).toLocaleTimeString(lang, { hour: '2-digit', minute: '2-digit' }) : '–';
const span = (r: { min: number; max: number } | null) => (r ? `${Math.round(r.min)}–${Math.round(r.max)}` : '–');

export function SleepPanel(props: { residentId: string }) {
  const { t, lang } = useI18n();
  const { api } = useSession();
  const report = useLoad(
    () => api.get<SleepReport>(`/residents/${encodeURIComponent(props.residentId)}/sleep`).catch(() => null),
    [api, props.residentId],
  );
  const r = report.data;
  const last = r?.nights[0];
  if (!r || !last) return null;
  return (
    <div class="panel sleep" data-testid="sleep-report">
      <h2>{t('sleep.title')}</h2>
      <dl class="sleep-last">
        <dt>{t('sleep.night', { night: last.night })}</dt>
        <dd>
          {t('sleep.in_bed')} {time(last.inBedAt, lang)} · {t('sleep.asleep')} {time(last.asleepAt, lang)} · {t('sleep.woke')}{' '}
          {time(last.wokeAt, lang)} · {t('sleep.out_of_bed')} {time(last.outOfBedAt, lang)}
        </dd>
        <dd>
          {t('sleep.asleep')} {hm(last.minutesAsleep)} ({t('sleep.deep')} {hm(last.minutesDeep)}, {t('sleep.light')} {hm(last.minutesLight)}
          ) · {t('sleep.awake')} {hm(last.minutesAwake)} · {t('sleep.times_out', { n: last.timesOutOfBed })}
        </dd>
        <dd>
          {t('metric.heart_rate')} {span(last.heartRate)} · {t('metric.resp_rate')} {span(last.respRate)}
          {last.score !== null && ` · ${t('sleep.score', { score: Math.round(last.score) })}`}
        </dd>
      </dl>
      <table class="sleep-week">
        <thead>
          <tr>
            <th>{t('sleep.col_night')}</th>
            <th>{t('sleep.asleep')}</th>
            <th>{t('sleep.deep')}</th>
            <th>{t('sleep.col_out')}</th>
            <th>{t('sleep.col_score')}</th>
          </tr>
        </thead>
        <tbody>
          {r.nights.map((n) => (
            <tr key={n.night}>
              <td>{n.night.slice(5)}</td>
              <td>{hm(n.minutesAsleep)}</td>
              <td>{hm(n.minutesDeep)}</td>
              <td>{n.timesOutOfBed}</td>
              <td>{n.score === null ? '–' : Math.round(n.score)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p class="muted">
        {t('sleep.week', {
          nights: r.summary.nights,
          asleep: r.summary.avgMinutesAsleep === null ? '–' : hm(r.summary.avgMinutesAsleep),
          out: r.summary.avgTimesOutOfBed ?? '–',
        })}
      </p>
    </div>
  );
}

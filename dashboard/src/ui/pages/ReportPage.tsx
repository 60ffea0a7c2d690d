// The response KPI report (GET /api/v1/reports/response): for a chosen period and site, the time to
// acknowledge and to resolve, the share of calls answered within 60 s and 3 min, false alarms, per
// site and per shift; charts of the daily figures drawn with uPlot; the server's CSV to download.
import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import { useI18n, useSession } from '../context.ts';
import { useLoad } from '../hooks.ts';
import { errorText, Field, formatTime, LoadState, StatusLine, saveFile, useSites, val } from './common.tsx';

export interface Kpis {
  alarms: number;
  ackSecondsP50: number | null;
  ackSecondsP90: number | null;
  resolveSecondsP50: number | null;
  resolveSecondsP90: number | null;
  calls: number;
  callsAckWithin60sPercent: number | null;
  callsAckWithin180sPercent: number | null;
  falseAlarmPercent: number | null;
  unacknowledged: number;
}
interface Report {
  from: string;
  to: string;
  all: Kpis & { siteId: string };
  sites: Array<Kpis & { siteId: string }>;
  shifts: Array<Kpis & { shiftId: string; siteId: string; userId: string; start: string; end: string }>;
}

const DAY = 86_400_000;
/** Days charted at most: one small request per day. */
const MAX_DAYS = 31;
const dayInput = (ms: number) => new Date(ms - new Date(ms).getTimezoneOffset() * 60_000).toISOString().slice(0, 10);
/** Local midnight of a yyyy-mm-dd input. */
const dayStart = (s: string) => new Date(`${s}T00:00:00`).getTime();

/** Runs `fn` over `items`, `limit` at a time, keeping the order. */
async function inTurns<T, R>(items: T[], limit: number, fn: (x: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < items.length; i = next++) out[i] = await fn(items[i] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

export function ReportPage() {
  const { t, lang } = useI18n();
  const { api } = useSession();
  const sites = useSites();
  const today = dayInput(Date.now());
  const [f, setF] = useState({ from: dayInput(Date.now() - 13 * DAY), to: today, siteId: '' });
  const [csv, setCsv] = useState<{ ok: boolean; text: string } | null>(null);
  const query = (from: number, to: number, extra = '') =>
    `/reports/response?from=${encodeURIComponent(new Date(from).toISOString())}&to=${encodeURIComponent(new Date(to).toISOString())}${
      f.siteId ? `&siteId=${encodeURIComponent(f.siteId)}` : ''
    }${extra}`;
  const range = (): [number, number] | null => {
    const from = dayStart(f.from);
    const to = dayStart(f.to) + DAY - 1;
    return Number.isNaN(from) || Number.isNaN(to) || from > to ? null : [from, to];
  };
  const report = useLoad(async () => {
    const r = range();
    if (!r) throw new Error(t('report.bad_range'));
    const [from, to] = r;
    const days: number[] = [];
    for (let d = Math.max(from, to + 1 - MAX_DAYS * DAY); d <= to; d += DAY) days.push(d);
    const [total, daily] = await Promise.all([
      api.get<Report>(query(from, to)),
      inTurns(days, 4, async (d) => ({ day: d, kpis: (await api.get<Report>(query(d, Math.min(to, d + DAY - 1)))).all })),
    ]);
    return { total, daily };
  }, [api, f.from, f.to, f.siteId]);

  const download = async () => {
    const r = range();
    if (!r) return;
    try {
      saveFile(`response-kpis-${f.from}-${f.to}.csv`, await api.text(query(r[0], r[1], '&format=csv')), 'text/csv;charset=utf-8');
      setCsv({ ok: true, text: t('report.csv_done') });
    } catch (err) {
      setCsv({ ok: false, text: t('admin.error', { message: errorText(err) }) });
    }
  };

  return (
    <section class="admin-page" data-testid="page-report">
      <h1>{t('report.title')}</h1>
      <div class="panel filters">
        <Field label={t('report.from')}>
          <input type="date" value={f.from} max={f.to} onInput={(e) => setF({ ...f, from: val(e) })} data-testid="report-from" />
        </Field>
        <Field label={t('report.to')}>
          <input type="date" value={f.to} onInput={(e) => setF({ ...f, to: val(e) })} data-testid="report-to" />
        </Field>
        <Field label={t('admin.site')}>
          <select value={f.siteId} onChange={(e) => setF({ ...f, siteId: val(e) })} data-testid="report-site">
            <option value="">{t('report.all_sites')}</option>
            {(sites.data ?? []).map((s) => (
              <option value={s.id} key={s.id}>
                {s.name}
              </option>
            ))}
          </select>
        </Field>
        <button type="button" class="btn btn-primary" onClick={() => void download()} data-testid="report-csv">
          ⤓ {t('report.csv')}
        </button>
        <StatusLine status={csv} testid="report-csv-status" />
      </div>
      <LoadState loaded={report} isEmpty={(r) => r.total.all.alarms === 0} emptyText={t('report.empty')}>
        {({ total, daily }) => {
          const names = new Map((sites.data ?? []).map((s) => [s.id, s.name]));
          const xs = daily.map((d) => d.day / 1000);
          const nums = (k: keyof Kpis) => daily.map((d) => d.kpis[k]);
          return (
            <>
              <p class="muted">
                {formatTime(total.from, lang)} – {formatTime(total.to, lang)}
              </p>
              <KpiTiles k={total.all} />
              <div class="report-charts">
                <KpiChart
                  title={t('report.chart_ack')}
                  xs={xs}
                  series={[
                    { label: 'p50', ys: nums('ackSecondsP50'), color: '#4fc3f7' },
                    { label: 'p90', ys: nums('ackSecondsP90'), color: '#fb8c00' },
                  ]}
                  testid="chart-ack"
                />
                <KpiChart
                  title={t('report.chart_calls')}
                  xs={xs}
                  series={[
                    { label: '≤ 60 s', ys: nums('callsAckWithin60sPercent'), color: '#43a047' },
                    { label: '≤ 3 min', ys: nums('callsAckWithin180sPercent'), color: '#7e57c2' },
                  ]}
                  testid="chart-calls"
                />
                <KpiChart
                  title={t('report.chart_alarms')}
                  xs={xs}
                  series={[
                    { label: t('report.alarms'), ys: nums('alarms'), color: '#e53935' },
                    { label: t('report.calls'), ys: nums('calls'), color: '#fdd835' },
                  ]}
                  testid="chart-alarms"
                />
              </div>
              <KpiTable
                title={t('report.by_site')}
                rows={total.sites.map((s) => ({ key: s.siteId, label: names.get(s.siteId) ?? s.siteId, k: s }))}
                testid="report-sites"
              />
              {total.shifts.length > 0 && (
                <KpiTable
                  title={t('report.by_shift')}
                  rows={total.shifts.map((s) => ({
                    key: s.shiftId,
                    label: `${s.userId} · ${formatTime(s.start, lang)}–${formatTime(s.end, lang)}`,
                    k: s,
                  }))}
                  testid="report-shifts"
                />
              )}
            </>
          );
        }}
      </LoadState>
    </section>
  );
}

const secs = (s: number | null) => (s === null ? '–' : s < 120 ? `${Math.round(s)} s` : `${Math.round(s / 60)} min`);
const pct = (p: number | null) => (p === null ? '–' : `${p} %`);

function KpiTiles(props: { k: Kpis }) {
  const { t } = useI18n();
  const { k } = props;
  const tiles: Array<[string, string, string]> = [
    [t('report.alarms'), String(k.alarms), 'alarms'],
    [t('report.ack_p50'), secs(k.ackSecondsP50), 'ack-p50'],
    [t('report.ack_p90'), secs(k.ackSecondsP90), 'ack-p90'],
    [t('report.calls_60'), pct(k.callsAckWithin60sPercent), 'calls-60'],
    [t('report.calls_180'), pct(k.callsAckWithin180sPercent), 'calls-180'],
    [t('report.resolve_p50'), secs(k.resolveSecondsP50), 'resolve-p50'],
    [t('report.false_alarms'), pct(k.falseAlarmPercent), 'false'],
    [t('report.unacknowledged'), String(k.unacknowledged), 'unacked'],
  ];
  return (
    <div class="kpi-tiles">
      {tiles.map(([label, value, id]) => (
        <div class="kpi" key={id} data-testid={`kpi-${id}`}>
          <div class="kpi-value">{value}</div>
          <div class="kpi-label">{label}</div>
        </div>
      ))}
    </div>
  );
}

function KpiTable(props: { title: string; rows: Array<{ key: string; label: string; k: Kpis }>; testid: string }) {
  const { t } = useI18n();
  return (
    <div class="panel table-wrap">
      <h2>{props.title}</h2>
      <table class="table" data-testid={props.testid}>
        <thead>
          <tr>
            <th />
            <th>{t('report.alarms')}</th>
            <th>{t('report.ack_p50')}</th>
            <th>{t('report.ack_p90')}</th>
            <th>{t('report.calls_60')}</th>
            <th>{t('report.false_alarms')}</th>
          </tr>
        </thead>
        <tbody>
          {props.rows.map((r) => (
            <tr key={r.key}>
              <th>{r.label}</th>
              <td>{r.k.alarms}</td>
              <td>{secs(r.k.ackSecondsP50)}</td>
              <td>{secs(r.k.ackSecondsP90)}</td>
              <td>{pct(r.k.callsAckWithin60sPercent)}</td>
              <td>{pct(r.k.falseAlarmPercent)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** Daily figures as lines (gaps where a day has none), with a legend, sized to the container. */
export function KpiChart(props: {
  title: string;
  xs: number[];
  series: Array<{ label: string; ys: Array<number | null>; color: string }>;
  testid?: string;
}) {
  const { lang } = useI18n();
  const host = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = host.current;
    if (!el) return;
    const axis = { stroke: '#c8d0da', grid: { stroke: '#2a3442' }, ticks: { stroke: '#2a3442' } };
    const plot = new uPlot(
      {
        width: Math.max(260, el.clientWidth),
        height: 200,
        // The legend is drawn below by the page (uPlot's own needs its stylesheet).
        legend: { show: false },
        cursor: { drag: { x: false, y: false } },
        scales: { x: { time: true } },
        axes: [
          {
            ...axis,
            values: (_u, splits) => splits.map((s) => new Date(s * 1000).toLocaleDateString(lang, { month: 'numeric', day: 'numeric' })),
          },
          { ...axis, size: 50 },
        ],
        series: [{}, ...props.series.map((s) => ({ label: s.label, stroke: s.color, width: 2, spanGaps: false, points: { show: true } }))],
      },
      [props.xs, ...props.series.map((s) => s.ys)] as uPlot.AlignedData,
      el,
    );
    const onResize = () => plot.setSize({ width: Math.max(260, el.clientWidth), height: 200 });
    window.addEventListener('resize', onResize);
    return () => {
      window.removeEventListener('resize', onResize);
      plot.destroy();
    };
  }, [props.xs, props.series, lang]);
  return (
    <figure class="chart panel" data-testid={props.testid}>
      <figcaption>{props.title}</figcaption>
      <div ref={host} class="chart-host" />
      <div class="chart-legend">
        {props.series.map((s) => (
          <span key={s.label}>
            <span class="legend-swatch" style={{ background: s.color }} /> {s.label}
          </span>
        ))}
      </div>
    </figure>
  );
}

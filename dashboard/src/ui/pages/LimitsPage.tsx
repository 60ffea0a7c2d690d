// A resident's vital-sign limits (below min or above max for longer than the sustain time raises a
// vitals alarm) and confirmation delays (how long a medium or low alarm waits for its cause to end
// by itself before it is raised; high-priority alarms are never delayed), saved with
// PUT /api/v1/residents/:id/settings, which merges them into the resident's other settings.
import { useState } from 'preact/hooks';
import type { Resident } from '../../../../protocol/api.ts';
import { translateDynamic } from '../../lib/i18n.ts';
import { useI18n, useSession } from '../context.ts';
import { useLoad } from '../hooks.ts';
import { Field, LoadState, StatusLine, useAction, val } from './common.tsx';

const METRICS = ['heart_rate', 'resp_rate', 'spo2', 'bp_systolic', 'bp_diastolic', 'temperature', 'glucose'] as const;
const DELAYS = ['bed_exit', 'inactivity', 'vitals'] as const;

interface Limit {
  min?: number;
  max?: number;
  sustainSeconds?: number;
}
interface Stored {
  vitals?: Record<string, Limit>;
  confirmDelaySeconds?: Partial<Record<(typeof DELAYS)[number], number>>;
}
type LimitDraft = { min: string; max: string; sustainSeconds: string };

const text = (n: number | undefined) => (n === undefined ? '' : String(n));
const num = (s: string) => (s.trim() === '' ? undefined : Number(s));

/** The settings body, or the metric or delay whose figures do not hold together. */
export function limitsBody(
  vitals: Record<string, LimitDraft>,
  delays: Record<string, string>,
): { body: { vitals: Record<string, Limit>; confirmDelaySeconds: Record<string, number> } } | { bad: string } {
  const out: Record<string, Limit> = {};
  for (const [metric, d] of Object.entries(vitals)) {
    const l = { min: num(d.min), max: num(d.max), sustainSeconds: num(d.sustainSeconds) };
    if ([l.min, l.max, l.sustainSeconds].some((x) => x !== undefined && !Number.isFinite(x))) return { bad: metric };
    if (l.min !== undefined && l.max !== undefined && l.min >= l.max) return { bad: metric };
    if (l.sustainSeconds !== undefined && !(Number.isInteger(l.sustainSeconds) && l.sustainSeconds >= 0 && l.sustainSeconds <= 86_400))
      return { bad: metric };
    // A metric with nothing set is left out: it falls back to the defaults.
    if (l.min === undefined && l.max === undefined) continue;
    out[metric] = Object.fromEntries(Object.entries(l).filter(([, v]) => v !== undefined));
  }
  const confirm: Record<string, number> = {};
  for (const [k, v] of Object.entries(delays)) {
    const n = num(v);
    if (n === undefined) continue;
    if (!(Number.isInteger(n) && n >= 0 && n <= 600)) return { bad: k };
    confirm[k] = n;
  }
  return { body: { vitals: out, confirmDelaySeconds: confirm } };
}

export function LimitsPage() {
  const { t } = useI18n();
  const { api } = useSession();
  const residents = useLoad(async () => (await api.get<{ residents: Resident[] }>('/residents')).residents, [api]);
  const [picked, setPicked] = useState('');
  return (
    <section class="admin-page" data-testid="page-limits">
      <h1>{t('limits.title')}</h1>
      <p class="muted">{t('limits.intro')}</p>
      <LoadState loaded={residents} isEmpty={(l) => l.length === 0} emptyText={t('privacy.no_residents')}>
        {(list) => {
          const r = list.find((x) => x.id === picked) ?? list[0];
          if (!r) return null;
          return (
            <>
              <Field label={t('admin.resident')}>
                <select value={r.id} onChange={(e) => setPicked(val(e))} data-testid="limits-resident">
                  {list.map((x) => (
                    <option value={x.id} key={x.id}>
                      {x.name} · {x.room}
                    </option>
                  ))}
                </select>
              </Field>
              <LimitsForm key={r.id} resident={r} onSaved={residents.reload} />
            </>
          );
        }}
      </LoadState>
    </section>
  );
}

function LimitsForm(props: { resident: Resident; onSaved: () => void }) {
  const { t, lang } = useI18n();
  const { api } = useSession();
  const stored = (props.resident.settings ?? {}) as Stored;
  const [vitals, setVitals] = useState<Record<string, LimitDraft>>(() =>
    Object.fromEntries(
      METRICS.map((m) => {
        const l = stored.vitals?.[m] ?? {};
        return [m, { min: text(l.min), max: text(l.max), sustainSeconds: text(l.sustainSeconds) }];
      }),
    ),
  );
  const [delays, setDelays] = useState<Record<string, string>>(() =>
    Object.fromEntries(DELAYS.map((d) => [d, text(stored.confirmDelaySeconds?.[d])])),
  );
  const a = useAction();
  const setLimit = (m: string, k: keyof LimitDraft, v: string) => setVitals({ ...vitals, [m]: { ...(vitals[m] as LimitDraft), [k]: v } });
  const submit = async () => {
    const r = limitsBody(vitals, delays);
    const ok = await a.run(async () => {
      if ('bad' in r)
        throw new Error(
          t('limits.bad', { what: translateDynamic(lang, `metric.${r.bad}`, translateDynamic(lang, `limits.delay.${r.bad}`, r.bad)) }),
        );
      return api.put(`/residents/${encodeURIComponent(props.resident.id)}/settings`, r.body);
    }, t('admin.saved'));
    if (ok) props.onSaved();
  };
  return (
    <form
      class="admin-grid"
      data-testid="limits-form"
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
    >
      <div class="panel table-wrap">
        <h2>{t('limits.vitals')}</h2>
        <p class="muted">{t('limits.vitals_hint')}</p>
        <table class="table limits">
          <thead>
            <tr>
              <th />
              <th>{t('limits.min')}</th>
              <th>{t('limits.max')}</th>
              <th>{t('limits.sustain')}</th>
            </tr>
          </thead>
          <tbody>
            {METRICS.map((m) => (
              <tr key={m} data-metric={m}>
                <th>{translateDynamic(lang, `metric.${m}`, m)}</th>
                {(['min', 'max', 'sustainSeconds'] as const).map((k) => (
                  <td key={k}>
                    <input
                      type="number"
                      step="any"
                      class="narrow"
                      value={vitals[m]?.[k] ?? ''}
                      onInput={(e) => setLimit(m, k, val(e))}
                      aria-label={`${translateDynamic(lang, `metric.${m}`, m)} ${t(k === 'min' ? 'limits.min' : k === 'max' ? 'limits.max' : 'limits.sustain')}`}
                      data-testid={`limit-${m}-${k}`}
                    />
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <div class="panel admin-form">
        <h2>{t('limits.delays')}</h2>
        <p class="muted">{t('limits.delays_hint')}</p>
        {DELAYS.map((d) => (
          <Field label={translateDynamic(lang, `limits.delay.${d}`, d)} key={d}>
            <input
              type="number"
              min={0}
              max={600}
              value={delays[d] ?? ''}
              onInput={(e) => setDelays({ ...delays, [d]: val(e) })}
              placeholder="0"
              data-testid={`delay-${d}`}
            />
          </Field>
        ))}
        <button type="submit" class="btn btn-primary" disabled={a.busy} data-testid="limits-save">
          {t('admin.save')}
        </button>
        <StatusLine status={a.status} />
      </div>
    </form>
  );
}

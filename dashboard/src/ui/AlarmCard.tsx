// One alarm on the board: what, who, where, how long ago, escalation and repeats; acknowledge in
// one click, resolve with an outcome in two.
import { useState } from 'preact/hooks';
import type { Alarm } from '../../../protocol/schemas.ts';
import { translateDynamic } from '../lib/i18n.ts';
import { formatAgo } from '../lib/timeago.ts';
import { useI18n, useSession } from './context.ts';

const OUTCOMES = ['assisted', 'false_alarm', 'injured', 'transferred', 'other'] as const;

export function AlarmCard(props: { alarm: Alarm; now: number }) {
  const { t, lang } = useI18n();
  const { api, canAct, canRespond = canAct, canResolve = canAct } = useSession();
  const a = props.alarm;
  const [resolving, setResolving] = useState(false);
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const act = async (fn: () => Promise<unknown>) => {
    setBusy(true);
    setError(null);
    try {
      await fn();
      setResolving(false);
    } catch (err) {
      setError(t('action.failed', { message: err instanceof Error ? err.message : String(err) }));
    } finally {
      setBusy(false);
    }
  };
  const ack = () => act(() => api.post(`/alarms/${encodeURIComponent(a.id)}/ack`));
  const onSite = () => act(() => api.post(`/alarms/${encodeURIComponent(a.id)}/on-site`));
  // Only medium and low alarms: the server refuses to silence a high-priority one.
  const snooze = () => act(() => api.post(`/alarms/${encodeURIComponent(a.id)}/snooze`, { minutes: 10 }));
  const resolve = (outcome: string) =>
    act(() => api.post(`/alarms/${encodeURIComponent(a.id)}/resolve`, note.trim() ? { outcome, note: note.trim() } : { outcome }));

  const where = [a.room ? t('card.room', { room: a.room }) : null, a.bed ? t('card.bed', { bed: a.bed }) : null]
    .filter(Boolean)
    .join(' · ');
  const resident = a.residentName ?? (a.deviceId ? t('card.device', { device: a.deviceId }) : t('card.unknown_resident'));

  return (
    <article
      class={`card prio-${a.priority} state-${a.state}`}
      data-testid="alarm-card"
      data-alarm-id={a.id}
      data-state={a.state}
      data-type={a.type}
    >
      <div class="card-head">
        <span class={`prio-badge prio-badge-${a.priority}`}>{t(`priority.${a.priority}`)}</span>
        <h3 class="card-type">{translateDynamic(lang, `alarm.${a.type}`, a.type)}</h3>
        {a.count > 1 && <span class="card-count">×{a.count}</span>}
      </div>
      <div class="card-who">{a.residentId ? <a href={`#/resident/${encodeURIComponent(a.residentId)}`}>{resident}</a> : resident}</div>
      {where && <div class="card-where">{where}</div>}
      {a.note?.startsWith('daily_living.') && (
        <div class="card-reason" data-testid="alarm-reason">
          {translateDynamic(lang, a.note, a.note)}
        </div>
      )}
      <div class="card-meta">
        <span class="card-ago" title={new Date(a.raisedAt).toLocaleString(lang)}>
          {formatAgo(a.raisedAt, props.now, lang)}
        </span>
        <span class={`state-tag state-tag-${a.state}`} data-testid="alarm-state">
          {t(`state.${a.state}`)}
        </span>
        {a.escalationLevel > 0 && <span class="tag tag-escalated">{t('card.escalation', { level: a.escalationLevel })}</span>}
        {a.unregistered && <span class="tag tag-unregistered">⚠ {t('card.unregistered')}</span>}
        {a.test && <span class="tag tag-test">{t('card.test')}</span>}
      </div>
      {a.state === 'acknowledged' && a.ackBy && (
        <div class="card-ackby">
          {t('card.ack_by', { who: a.ackBy })}
          {a.onSiteBy && ` · ${t('card.on_site_by', { who: a.onSiteBy })}`}
        </div>
      )}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {canRespond && !resolving && (
        <div class="card-actions">
          {a.state === 'active' && (
            <button type="button" class="btn btn-ack" disabled={busy} onClick={ack} data-testid="ack">
              {t('action.ack')}
            </button>
          )}
          {canAct && a.state === 'active' && a.priority !== 'high' && !a.snoozedUntil && (
            <button type="button" class="btn btn-resolve" disabled={busy} onClick={snooze} data-testid="snooze">
              {t('action.snooze')}
            </button>
          )}
          {!a.onSiteBy && (
            <button type="button" class="btn btn-resolve" disabled={busy} onClick={onSite} data-testid="on-site">
              {t('action.on_site')}
            </button>
          )}
          {canResolve && (
            <button type="button" class="btn btn-resolve" disabled={busy} onClick={() => setResolving(true)} data-testid="resolve">
              {t('action.resolve')}
            </button>
          )}
        </div>
      )}
      {canResolve && resolving && (
        <div class="card-resolve">
          <div class="outcomes">
            {OUTCOMES.map((o) => (
              <button type="button" class="btn btn-outcome" disabled={busy} onClick={() => resolve(o)} data-outcome={o} key={o}>
                {t(`outcome.${o}`)}
              </button>
            ))}
          </div>
          <input
            class="note"
            placeholder={t('action.note')}
            value={note}
            maxLength={2000}
            onInput={(e) => setNote(e.currentTarget.value)}
            aria-label={t('action.note')}
          />
          <button type="button" class="btn btn-quiet" onClick={() => setResolving(false)}>
            {t('action.cancel')}
          </button>
        </div>
      )}
    </article>
  );
}

// Notifications sent along the response chains and their receipts: to whom (channel and address),
// at which level, for which alarm, where each stands (queued for the SMS gateway, delivered, seen,
// accepted, failed with its last error), filtered by channel and state. A queued SMS can be marked
// as delivered by hand when the operator confirms it another way.
import { useState } from 'preact/hooks';
import type { Notification } from '../../../../protocol/api.ts';
import { translateDynamic } from '../../lib/i18n.ts';
import { useI18n, useSession } from '../context.ts';
import { useLoad } from '../hooks.ts';
import { Field, formatTime, LoadState, StatusLine, useAction, val } from './common.tsx';

const CHANNELS = ['', 'user', 'sms', 'push', 'webhook'];
const STATES = ['', 'queued', 'pending', 'sent', 'delivered', 'seen', 'accepted', 'failed', 'suppressed'];

export function NotificationsPage() {
  const { t, lang } = useI18n();
  const { api } = useSession();
  const [f, setF] = useState({ channel: '', state: '' });
  const list = useLoad(async () => {
    const q = new URLSearchParams({ order: 'newest' });
    if (f.channel) q.set('channel', f.channel);
    if (f.state) q.set('state', f.state);
    // Newest first (the latest 500): what an administrator looks for is what just happened.
    return (await api.get<{ notifications: Notification[] }>(`/notifications?${q}`)).notifications;
  }, [api, f.channel, f.state]);
  const mark = useAction();
  const label = (prefix: string, v: string) => (v ? translateDynamic(lang, `${prefix}.${v}`, v) : t('page.any'));
  return (
    <section class="admin-page" data-testid="page-notifications">
      <h1>{t('notif.title')}</h1>
      <div class="panel filters">
        <Field label={t('notif.channel')}>
          <select value={f.channel} onChange={(e) => setF({ ...f, channel: val(e) })} data-testid="notif-channel">
            {CHANNELS.map((c) => (
              <option value={c} key={c}>
                {label('chain.kind', c)}
              </option>
            ))}
          </select>
        </Field>
        <Field label={t('notif.state')}>
          <select value={f.state} onChange={(e) => setF({ ...f, state: val(e) })} data-testid="notif-state">
            {STATES.map((s) => (
              <option value={s} key={s}>
                {label('notif.state', s)}
              </option>
            ))}
          </select>
        </Field>
        <button type="button" class="btn btn-quiet" onClick={list.reload}>
          ↻ {t('page.refresh')}
        </button>
      </div>
      <StatusLine status={mark.status} />
      <LoadState loaded={list} isEmpty={(l) => l.length === 0} emptyText={t('notif.empty')}>
        {(rows) => (
          <div class="table-wrap panel">
            <table class="table" data-testid="notif-table">
              <thead>
                <tr>
                  <th>{t('notif.when')}</th>
                  <th>{t('notif.level')}</th>
                  <th>{t('notif.channel')}</th>
                  <th>{t('notif.target')}</th>
                  <th>{t('notif.state')}</th>
                  <th>{t('notif.receipt')}</th>
                  <th>{t('notif.alarm')}</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((n) => (
                  <tr key={n.id} data-testid="notif-row" data-channel={n.channel} data-state={n.state}>
                    <td>{formatTime(n.createdAt, lang)}</td>
                    <td>{n.level}</td>
                    <td>{label('chain.kind', n.channel)}</td>
                    <td class="target">{n.target}</td>
                    <td class={`nstate nstate-${n.state}`}>
                      {label('notif.state', n.state)}
                      {n.attempts > 1 && <span class="muted"> ×{n.attempts}</span>}
                      {n.lastError && <div class="error small">{n.lastError}</div>}
                    </td>
                    <td>
                      {n.receiptAt ? formatTime(n.receiptAt, lang) : '–'}
                      {n.state === 'queued' && (
                        <button
                          type="button"
                          class="btn btn-quiet"
                          disabled={mark.busy}
                          onClick={() =>
                            void mark
                              .run(() => api.post(`/notifications/${encodeURIComponent(n.id)}/delivered`), t('notif.marked'))
                              .then((ok) => ok && list.reload())
                          }
                        >
                          {t('notif.mark_delivered')}
                        </button>
                      )}
                    </td>
                    <td>
                      <code>{n.alarmId.slice(-8)}</code>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </LoadState>
    </section>
  );
}

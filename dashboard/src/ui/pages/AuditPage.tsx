// The audit log (append-only: every alarm transition, notification, change and read of a resident's
// data), searched by resident, by user and by date (GET /api/v1/audit?residentId=&actor=&from=&to=).
import { useState } from 'preact/hooks';
import type { AuditEntry, Resident, User } from '../../../../protocol/api.ts';
import { translateDynamic } from '../../lib/i18n.ts';
import { useI18n, useSession } from '../context.ts';
import { useLoad } from '../hooks.ts';
import { Field, formatTime, LoadState, val } from './common.tsx';

const LIMIT = 500;
const dayStart = (s: string) => new Date(`${s}T00:00:00`).toISOString();
const dayEnd = (s: string) => new Date(new Date(`${s}T00:00:00`).getTime() + 86_400_000 - 1).toISOString();

export function AuditPage() {
  const { t, lang } = useI18n();
  const { api } = useSession();
  const [f, setF] = useState({ residentId: '', actor: '', from: '', to: '' });
  const people = useLoad(async () => {
    const [r, u] = await Promise.all([api.get<{ residents: Resident[] }>('/residents'), api.get<{ users: User[] }>('/users')]);
    return { residents: r.residents, users: u.users };
  }, [api]);
  const entries = useLoad(async () => {
    const q = new URLSearchParams({ limit: String(LIMIT) });
    if (f.residentId) q.set('residentId', f.residentId);
    if (f.actor) q.set('actor', f.actor);
    if (f.from) q.set('from', dayStart(f.from));
    if (f.to) q.set('to', dayEnd(f.to));
    return (await api.get<{ entries: AuditEntry[] }>(`/audit?${q}`)).entries;
  }, [api, f.residentId, f.actor, f.from, f.to]);
  const residents = people.data?.residents ?? [];
  const names = new Map(residents.map((r) => [r.id, `${r.name} · ${r.room}`]));
  return (
    <section class="admin-page" data-testid="page-audit">
      <h1>{t('audit.title')}</h1>
      <form class="panel filters" data-testid="audit-filters" onSubmit={(e) => e.preventDefault()}>
        <Field label={t('admin.resident')}>
          <select value={f.residentId} onChange={(e) => setF({ ...f, residentId: val(e) })} data-testid="audit-resident">
            <option value="">{t('page.any')}</option>
            {residents.map((r) => (
              <option value={r.id} key={r.id}>
                {r.name} · {r.room}
              </option>
            ))}
          </select>
        </Field>
        <Field label={t('audit.user')}>
          <input
            value={f.actor}
            list="audit-users"
            onChange={(e) => setF({ ...f, actor: val(e).trim() })}
            placeholder={t('page.any')}
            data-testid="audit-user"
          />
          <datalist id="audit-users">
            <option value="system" />
            {(people.data?.users ?? []).map((u) => (
              <option value={u.username} key={u.id}>
                {u.displayName ?? u.username}
              </option>
            ))}
          </datalist>
        </Field>
        <Field label={t('report.from')}>
          <input type="date" value={f.from} onInput={(e) => setF({ ...f, from: val(e) })} data-testid="audit-from" />
        </Field>
        <Field label={t('report.to')}>
          <input type="date" value={f.to} onInput={(e) => setF({ ...f, to: val(e) })} data-testid="audit-to" />
        </Field>
        <button type="button" class="btn btn-quiet" onClick={() => setF({ residentId: '', actor: '', from: '', to: '' })}>
          {t('audit.clear')}
        </button>
      </form>
      <LoadState loaded={entries} isEmpty={(l) => l.length === 0} emptyText={t('audit.empty')}>
        {(rows) => (
          <div class="table-wrap panel">
            {rows.length >= LIMIT && <p class="muted">{t('audit.limited', { n: LIMIT })}</p>}
            <table class="table" data-testid="audit-table">
              <thead>
                <tr>
                  <th>{t('notif.when')}</th>
                  <th>{t('audit.user')}</th>
                  <th>{t('audit.action')}</th>
                  <th>{t('audit.about')}</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((e) => (
                  <tr key={e.id} data-testid="audit-row" data-action={e.action}>
                    <td>{formatTime(e.at, lang)}</td>
                    <td>{e.actor}</td>
                    <td>{translateDynamic(lang, `audit.action.${e.action}`, translateDynamic(lang, `history.${e.action}`, e.action))}</td>
                    <td>
                      {e.subject && (names.get(e.subject) ?? e.subject)}
                      {e.alarmId && <code class="muted"> {e.alarmId.slice(-8)}</code>}
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

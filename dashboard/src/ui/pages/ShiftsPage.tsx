// Shifts of a site: who is on duty when, over which rooms (none: the whole site). Plan one, see the
// current and coming ones, delete one (asked first: its caregiver no longer counts as on duty).
// Hand-drawn rather than a schema form: the times are the browser's local time and the caregiver is
// picked from the site's staff.
import { useState } from 'preact/hooks';
import type { Shift, User } from '../../../../protocol/api.ts';
import { useI18n, useSession } from '../context.ts';
import { ConfirmButton } from '../forms/ConfirmDialog.tsx';
import { Field, formatTime, fromLocalInput, SitePage, StatusLine, toLocalInput, useAction, val } from './common.tsx';

const HOUR = 3_600_000;

export function ShiftsPage() {
  const { t } = useI18n();
  const { api } = useSession();
  return (
    <SitePage
      testid="page-shifts"
      title={t('shifts.title')}
      load={async (siteId) => {
        const [s, u] = await Promise.all([
          api.get<{ shifts: Shift[] }>(`/shifts?siteId=${encodeURIComponent(siteId)}`),
          api.get<{ users: User[] }>('/users'),
        ]);
        const staff = u.users.filter((x) => x.role !== 'family' && (x.siteId === null || x.siteId === siteId));
        return { shifts: [...s.shifts].sort((a, b) => a.start.localeCompare(b.start)), staff };
      }}
    >
      {(d, siteId, reload) => (
        <div class="admin-grid">
          <PlanShift siteId={siteId} staff={d.staff} onDone={reload} />
          <ShiftList shifts={d.shifts} staff={d.staff} onDeleted={reload} />
        </div>
      )}
    </SitePage>
  );
}

function PlanShift(props: { siteId: string; staff: User[]; onDone: () => void }) {
  const { t } = useI18n();
  const { api } = useSession();
  const [f, setF] = useState(() => {
    const start = Math.ceil(Date.now() / HOUR) * HOUR;
    return {
      userId: '',
      rooms: '',
      start: toLocalInput(new Date(start).toISOString()),
      end: toLocalInput(new Date(start + 8 * HOUR).toISOString()),
    };
  });
  const a = useAction();
  const submit = async () => {
    const start = fromLocalInput(f.start);
    const end = fromLocalInput(f.end);
    const rooms = f.rooms
      .split(/[,，\s]+/)
      .map((r) => r.trim())
      .filter(Boolean);
    const r = await a.run(async () => {
      if (!start || !end || end <= start) throw new Error(t('shifts.bad_times'));
      return api.post<Shift>('/shifts', { siteId: props.siteId, userId: f.userId, start, end, ...(rooms.length ? { rooms } : {}) });
    }, t('shifts.planned'));
    if (r) props.onDone();
  };
  return (
    <form
      class="panel admin-form"
      data-testid="shift-plan"
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
    >
      <h2>{t('shifts.plan')}</h2>
      {props.staff.length === 0 && <p class="muted">{t('shifts.no_staff')}</p>}
      <Field label={t('shifts.who')}>
        <select value={f.userId} onChange={(e) => setF({ ...f, userId: val(e) })} required data-testid="shift-user">
          <option value="" />
          {props.staff.map((u) => (
            <option value={u.id} key={u.id}>
              {u.displayName ?? u.username} ({u.username})
            </option>
          ))}
        </select>
      </Field>
      <Field label={t('shifts.start')}>
        <input type="datetime-local" value={f.start} onInput={(e) => setF({ ...f, start: val(e) })} required data-testid="shift-start" />
      </Field>
      <Field label={t('shifts.end')}>
        <input type="datetime-local" value={f.end} onInput={(e) => setF({ ...f, end: val(e) })} required data-testid="shift-end" />
      </Field>
      <Field label={t('shifts.rooms')} hint={t('shifts.rooms_hint')}>
        <input value={f.rooms} onInput={(e) => setF({ ...f, rooms: val(e) })} data-testid="shift-rooms" />
      </Field>
      <button type="submit" class="btn btn-primary" disabled={a.busy}>
        {t('shifts.plan')}
      </button>
      <StatusLine status={a.status} />
    </form>
  );
}

function ShiftList(props: { shifts: Shift[]; staff: User[]; onDeleted: () => void }) {
  const { t, lang } = useI18n();
  const { api } = useSession();
  const names = new Map(props.staff.map((u) => [u.id, u.displayName ?? u.username]));
  const now = new Date().toISOString();
  return (
    <div class="panel">
      <h2>{t('shifts.list')}</h2>
      {props.shifts.length === 0 ? (
        <p class="muted" data-testid="empty">
          {t('shifts.empty')}
        </p>
      ) : (
        <ul class="rows">
          {props.shifts.map((s) => {
            const who = names.get(s.userId) ?? s.userId;
            const when = `${formatTime(s.start, lang)} – ${formatTime(s.end, lang)}`;
            const onNow = s.start <= now && now < s.end;
            return (
              <li class="row" data-testid="shift-row" data-shift-id={s.id} key={s.id}>
                <div>
                  <strong>{who}</strong> {onNow && <span class="tag tag-now">{t('shifts.on_now')}</span>}
                  <div class="muted">{when}</div>
                  <div class="muted">{s.rooms ? t('shifts.rooms_list', { rooms: s.rooms.join(', ') }) : t('shifts.whole_site')}</div>
                </div>
                <ConfirmButton
                  label={t('shifts.delete')}
                  title={t('shifts.delete_title')}
                  consequence={t('shifts.delete_consequence', { who, when })}
                  action={async () => {
                    await api.del(`/shifts/${encodeURIComponent(s.id)}`);
                    props.onDeleted();
                  }}
                  testid="shift-delete"
                />
              </li>
            );
          })}
        </ul>
      )}
    </div>
  );
}

// A resident's family contacts in calling order (GET/PUT /api/v1/residents/{id}/contacts): add,
// move up or down, remove, then save the whole list. Phones are checked here as the server checks
// them (E.164: + country code and number) so a wrong number is named before anything is sent.
// An administrator may link a contact to a family login (role family: they then see this resident
// and can accept their alarms); others keep the link as it is.
import { useEffect, useState } from 'preact/hooks';
import type { User } from '../../../../protocol/api.ts';
import type { FamilyContact } from '../../../../protocol/areas.ts';
import type { Resident } from '../api-types.ts';
import { useI18n, useSession } from '../context.ts';
import { useLoad } from '../hooks.ts';
import { LoadState, type Status, StatusLine } from '../pages/common.tsx';
import { refusalText } from './areas-data.ts';

/** The server's rule (protocol/areas.ts E164): + then 7 to 15 digits, not starting with 0. */
export const E164_RE = /^\+[1-9][0-9]{6,14}$/;
/** Spaces, dashes, dots and brackets people type inside a number are dropped. */
export const cleanPhone = (s: string) => s.replace(/[\s\-.()]/g, '');
const MAX = 10;

type Row = { name: string; relation: string; phone: string; userId: string | null };
type RowErrors = Partial<Record<'name' | 'relation' | 'phone', string>>;

export function ContactsEditor(props: { resident: Resident; editable: boolean }) {
  const { t } = useI18n();
  const { api } = useSession();
  const id = encodeURIComponent(props.resident.id);
  const loaded = useLoad(async () => (await api.get<{ contacts: FamilyContact[] }>(`/residents/${id}/contacts`)).contacts, [api, id]);
  const { isAdmin } = useSession();
  // The family logins to link a contact to: the users list is an administrator's to read.
  const logins = useLoad(
    async () => (isAdmin ? (await api.get<{ users: User[] }>('/users')).users.filter((u) => u.role === 'family') : []),
    [api, isAdmin],
  );
  const [rows, setRows] = useState<Row[] | null>(null);
  const [errors, setErrors] = useState<RowErrors[]>([]);
  const [status, setStatus] = useState<Status>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    if (loaded.data) setRows(loaded.data.map((c) => ({ name: c.name, relation: c.relation, phone: c.phone, userId: c.userId ?? null })));
  }, [loaded.data]);

  const set = (i: number, p: Partial<Row>) => setRows((list) => (list ?? []).map((r, j) => (j === i ? { ...r, ...p } : r)));
  const move = (i: number, by: -1 | 1) =>
    setRows((list) => {
      const next = [...(list ?? [])];
      const [r] = next.splice(i, 1);
      if (r) next.splice(i + by, 0, r);
      return next;
    });

  const save = async () => {
    const list = (rows ?? []).map((r) => ({ ...r, name: r.name.trim(), relation: r.relation.trim(), phone: cleanPhone(r.phone) }));
    const found = list.map((r) => {
      const e: RowErrors = {};
      if (!r.name) e.name = t('contacts.name_needed');
      if (!r.relation) e.relation = t('contacts.relation_needed');
      if (!E164_RE.test(r.phone)) e.phone = t('contacts.bad_phone');
      return e;
    });
    setErrors(found);
    if (found.some((e) => Object.keys(e).length > 0)) return setStatus({ ok: false, text: t('form.fix_fields') });
    setBusy(true);
    setStatus(null);
    try {
      await api.put(`/residents/${id}/contacts`, {
        contacts: list.map((r) => ({ name: r.name, relation: r.relation, phone: r.phone, ...(r.userId ? { userId: r.userId } : {}) })),
      });
      setRows(list);
      setStatus({ ok: true, text: t('contacts.saved', { n: list.length }) });
    } catch (err) {
      setStatus({ ok: false, text: refusalText(t, err) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <div class="contacts" data-testid="contacts">
      <h4>{t('contacts.title', { name: props.resident.name })}</h4>
      <p class="muted">{t('contacts.help')}</p>
      <LoadState loaded={loaded}>
        {() =>
          rows && (
            <form
              noValidate
              onSubmit={(e) => {
                e.preventDefault();
                if (!busy) void save();
              }}
            >
              {rows.length === 0 && <p class="muted">{t('contacts.none')}</p>}
              <ol class="contact-list">
                {rows.map((r, i) => (
                  // Contacts have no id of their own; the index is their place in the calling order.
                  <li key={i} class="contact-row" data-testid="contact">
                    <span class="contact-order">{i + 1}</span>
                    <ContactInput
                      label={t('contacts.name')}
                      name="name"
                      value={r.name}
                      error={errors[i]?.name}
                      disabled={!props.editable}
                      onInput={(v) => set(i, { name: v })}
                    />
                    <ContactInput
                      label={t('contacts.relation')}
                      name="relation"
                      value={r.relation}
                      error={errors[i]?.relation}
                      disabled={!props.editable}
                      onInput={(v) => set(i, { relation: v })}
                      placeholder={t('contacts.relation_hint')}
                    />
                    <ContactInput
                      label={t('contacts.phone')}
                      name="phone"
                      value={r.phone}
                      error={errors[i]?.phone}
                      disabled={!props.editable}
                      onInput={(v) => set(i, { phone: v })}
                      placeholder="+8613800000000"
                      tel
                    />
                    {isAdmin && props.editable && (logins.data?.length ?? 0) > 0 ? (
                      <label class="field">
                        <span>{t('contacts.login')}</span>
                        <select name="userId" value={r.userId ?? ''} onChange={(e) => set(i, { userId: e.currentTarget.value || null })}>
                          <option value="">{t('homes.none')}</option>
                          {(logins.data ?? []).map((u) => (
                            <option key={u.id} value={u.id}>
                              {u.displayName ? `${u.displayName} (${u.username})` : u.username}
                            </option>
                          ))}
                        </select>
                      </label>
                    ) : (
                      <span class="muted">{r.userId ? t('contacts.has_login') : ''}</span>
                    )}
                    {props.editable && (
                      <span class="contact-actions">
                        <button
                          type="button"
                          class="btn btn-quiet"
                          disabled={i === 0}
                          onClick={() => move(i, -1)}
                          aria-label={t('contacts.up', { n: i + 1 })}
                          data-testid="contact-up"
                        >
                          ↑
                        </button>
                        <button
                          type="button"
                          class="btn btn-quiet"
                          disabled={i === rows.length - 1}
                          onClick={() => move(i, 1)}
                          aria-label={t('contacts.down', { n: i + 1 })}
                          data-testid="contact-down"
                        >
                          ↓
                        </button>
                        <button
                          type="button"
                          class="btn btn-quiet"
                          onClick={() => {
                            setRows(rows.filter((_, j) => j !== i));
                            setErrors(errors.filter((_, j) => j !== i));
                          }}
                          aria-label={t('form.remove_item', { n: i + 1 })}
                          data-testid="contact-remove"
                        >
                          {t('form.remove')}
                        </button>
                      </span>
                    )}
                  </li>
                ))}
              </ol>
              {props.editable && (
                <div class="form-actions">
                  <button
                    type="button"
                    class="btn btn-quiet"
                    disabled={rows.length >= MAX}
                    onClick={() => setRows([...rows, { name: '', relation: '', phone: '+86', userId: null }])}
                    data-testid="contact-add"
                  >
                    {t('contacts.add')}
                  </button>
                  <button type="submit" class="btn btn-primary" disabled={busy} data-testid="contacts-save">
                    {busy ? t('form.saving') : t('contacts.save')}
                  </button>
                </div>
              )}
              <StatusLine status={status} testid="contacts-status" />
            </form>
          )
        }
      </LoadState>
    </div>
  );
}

function ContactInput(props: {
  label: string;
  name: string;
  value: string;
  error?: string;
  disabled: boolean;
  onInput: (v: string) => void;
  placeholder?: string;
  tel?: boolean;
}) {
  return (
    <label class="field">
      <span>{props.label}</span>
      <input
        name={props.name}
        type="text"
        inputMode={props.tel ? 'tel' : undefined}
        value={props.value}
        disabled={props.disabled}
        placeholder={props.placeholder}
        maxLength={props.name === 'phone' ? 24 : 100}
        aria-invalid={props.error ? true : undefined}
        onInput={(e) => props.onInput(e.currentTarget.value)}
      />
      {props.error && (
        <span class="field-error" role="alert" data-testid={`contact-error-${props.name}`}>
          {props.error}
        </span>
      )}
    </label>
  );
}

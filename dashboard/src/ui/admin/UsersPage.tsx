// Users and roles (#/admin/users): staff and family accounts. A family account is bound to one
// resident and sees only them; a centre operator to an area of the tree (the areas page builds it). Editing changes a name, role, site, relative or password; a new
// password, role or scope signs the person out everywhere (the server ends their sessions).
import { useState } from 'preact/hooks';
import type { User } from '../../../../protocol/api.ts';
import { translateDynamic } from '../../lib/i18n.ts';
import { areaOptions, useAreas } from '../centre/areas-data.ts';
import { useI18n, useSession } from '../context.ts';
import { ApiForm } from '../forms/ApiForm.tsx';
import { LoadState } from '../pages/common.tsx';
import { type RegistryData, residentChoices, siteChoices, siteName, useRegistryData, useUsers } from './registry-data.ts';

export function UsersPage() {
  const { t } = useI18n();
  const { api } = useSession();
  const users = useUsers();
  const reg = useRegistryData();
  // A centre operator's area is picked from the areas tree (built on the areas page).
  const areas = useAreas();
  const areaChoices = areaOptions(areas.data ?? []).map(({ area, depth }) => ({
    value: area.id,
    label: `${'\u00a0\u00a0'.repeat(depth)}${area.name}`,
  }));
  const choices = (d: RegistryData) => ({ siteId: siteChoices(d), residentId: residentChoices(d), areaId: areaChoices });
  return (
    <section class="admin" data-testid="users-page">
      <h1>{t('users.title')}</h1>
      <div class="admin-split">
        <div class="panel">
          <h2>{t('users.list')}</h2>
          <LoadState loaded={users} isEmpty={(u) => u.length === 0}>
            {(list) => (
              <ul class="admin-list" data-testid="user-list">
                {list.map((u) => (
                  <UserRow key={u.id} user={u} data={reg.data} choices={reg.data ? choices(reg.data) : {}} onSaved={users.reload} />
                ))}
              </ul>
            )}
          </LoadState>
        </div>
        {reg.data && (
          <ApiForm
            route="POST /api/v1/users"
            labels="field.user"
            title={t('users.create')}
            testid="user-form"
            submitLabel={t('admin.create')}
            resetOnDone
            choices={choices(reg.data)}
            optionLabels={{ role: 'role.' }}
            onSubmit={async (body) => {
              const u = await api.post<User>('/users', body);
              users.reload();
              return u;
            }}
            done={(u) => t('users.created', { name: (u as User).username })}
          >
            <p class="muted">{t('users.family_help')}</p>
          </ApiForm>
        )}
      </div>
    </section>
  );
}

function UserRow(props: {
  user: User;
  data: RegistryData | null;
  choices: Record<string, { value: string; label: string }[]>;
  onSaved: () => void;
}) {
  const { t, lang } = useI18n();
  const { api } = useSession();
  const [editing, setEditing] = useState(false);
  const u = props.user;
  const resident = props.data?.residents.find((r) => r.id === u.residentId);
  return (
    <li class="admin-row" data-testid="user-row" data-username={u.username}>
      <div class="admin-row-main">
        <strong>{u.displayName || u.username}</strong> <span class="muted">({u.username})</span>
        <div class="muted">
          {translateDynamic(lang, `role.${u.role}`, u.role)}
          {u.siteId && ` · ${props.data ? siteName(props.data, u.siteId) : u.siteId}`}
          {resident && ` · ${t('users.relative', { name: resident.name })}`}
        </div>
      </div>
      <button type="button" class="btn btn-quiet" aria-expanded={editing} onClick={() => setEditing(!editing)} data-testid="user-edit">
        {editing ? t('form.cancel') : t('admin.edit')}
      </button>
      {editing && (
        <div class="admin-edit">
          <ApiForm
            route="PATCH /api/v1/users/:id"
            labels="field.user"
            value={u}
            edit
            choices={props.choices}
            optionLabels={{ role: 'role.' }}
            onSubmit={async (body) => {
              const saved = await api.patch<User>(`/users/${encodeURIComponent(u.id)}`, body);
              props.onSaved();
              return saved;
            }}
          >
            <p class="muted">{t('users.edit_help')}</p>
          </ApiForm>
        </div>
      )}
    </li>
  );
}

// A resident's privacy rights: export everything held about them (the right of access, a JSON file)
// and erase it (the right to erasure), which asks first and names the resident and what goes.
import { useState } from 'preact/hooks';
import type { Resident } from '../../../../protocol/api.ts';
import { useI18n, useSession } from '../context.ts';
import { ConfirmButton } from '../forms/ConfirmDialog.tsx';
import { useLoad } from '../hooks.ts';
import { Field, LoadState, StatusLine, saveFile, useAction, val } from './common.tsx';

export function PrivacyPage() {
  const { t } = useI18n();
  const { api } = useSession();
  const residents = useLoad(async () => (await api.get<{ residents: Resident[] }>('/residents')).residents, [api]);
  const [picked, setPicked] = useState('');
  const [erased, setErased] = useState<string | null>(null);
  const exp = useAction();
  return (
    <section class="admin-page" data-testid="page-privacy">
      <h1>{t('privacy.title')}</h1>
      <p class="muted">{t('privacy.intro')}</p>
      {erased && (
        <p class="ok" role="status" data-testid="privacy-erased">
          {t('privacy.erased', { name: erased })}
        </p>
      )}
      <LoadState loaded={residents} isEmpty={(l) => l.length === 0} emptyText={t('privacy.no_residents')}>
        {(list) => {
          const r = list.find((x) => x.id === picked) ?? list[0];
          if (!r) return null;
          const who = `${r.name} (${t('privacy.room', { room: r.room })})`;
          const path = `/residents/${encodeURIComponent(r.id)}`;
          return (
            <div class="panel admin-form">
              <Field label={t('admin.resident')}>
                <select value={r.id} onChange={(e) => setPicked(val(e))} data-testid="privacy-resident">
                  {list.map((x) => (
                    <option value={x.id} key={x.id}>
                      {x.name} · {x.room}
                    </option>
                  ))}
                </select>
              </Field>
              <div class="form-actions">
                <button
                  type="button"
                  class="btn btn-primary"
                  disabled={exp.busy}
                  data-testid="privacy-export"
                  onClick={() =>
                    void exp.run(
                      async () => {
                        const data = await api.get<unknown>(`${path}/export`);
                        saveFile(`resident-${r.id}.json`, JSON.stringify(data, null, 2), 'application/json');
                      },
                      t('privacy.exported', { name: r.name }),
                    )
                  }
                >
                  ⤓ {t('privacy.export')}
                </button>
                <ConfirmButton
                  label={t('privacy.erase')}
                  title={t('privacy.erase_title', { name: r.name })}
                  consequence={t('privacy.erase_consequence', { who })}
                  confirmLabel={t('privacy.erase_confirm', { name: r.name })}
                  testid="privacy-erase"
                  action={async () => {
                    await api.del(path);
                    setErased(r.name);
                    setPicked('');
                    residents.reload();
                  }}
                />
              </div>
              <StatusLine status={exp.status} />
            </div>
          );
        }}
      </LoadState>
    </section>
  );
}

// Gateways (#/admin/gateways): register one (its secret shown once, with its settings ready to
// copy), rotate a secret (a new one, shown once; the gateway is cut off until it has it) and revoke
// one (refused from then on). Both ask first and say what will happen.
import { useState } from 'preact/hooks';
import { formatAgo } from '../../lib/timeago.ts';
import type { Gateway } from '../api-types.ts';
import { useI18n, useSession } from '../context.ts';
import { ApiForm } from '../forms/ApiForm.tsx';
import { ConfirmButton } from '../forms/ConfirmDialog.tsx';
import { useNow } from '../hooks.ts';
import { LoadState } from '../pages/common.tsx';
import { GatewaySecret, type IssuedSecret } from './GatewaySecret.tsx';
import { siteChoices, siteName, useRegistryData } from './registry-data.ts';

export function GatewaysPage() {
  const { t } = useI18n();
  const { api } = useSession();
  const reg = useRegistryData();
  const [issued, setIssued] = useState<IssuedSecret | null>(null);
  return (
    <section class="admin" data-testid="gateways-page">
      <h1>{t('admin.gateways')}</h1>
      {issued && <GatewaySecret issued={issued} onDone={() => setIssued(null)} />}
      <div class="admin-split">
        <div class="panel">
          <h2>{t('gw.list')}</h2>
          <LoadState loaded={reg} isEmpty={(d) => d.gateways.length === 0} emptyText={t('gw.empty')}>
            {(data) => (
              <ul class="admin-list" data-testid="gateway-list">
                {data.gateways.map((g) => (
                  <GatewayRow
                    key={g.id}
                    gateway={g}
                    site={siteName(data, g.siteId)}
                    onRotated={(secret) => {
                      setIssued({ id: g.id, siteId: g.siteId, secret });
                      reg.reload();
                    }}
                    onRevoked={reg.reload}
                  />
                ))}
              </ul>
            )}
          </LoadState>
        </div>
        {reg.data && (
          <ApiForm
            route="POST /api/v1/gateways"
            labels="field.gateway"
            title={t('gw.register')}
            testid="gateway-form"
            submitLabel={t('gw.register')}
            resetOnDone
            choices={{ siteId: siteChoices(reg.data) }}
            onSubmit={async (body) => {
              const g = await api.post<Gateway & { secret: string }>('/gateways', body);
              setIssued({ id: g.id, siteId: g.siteId, secret: g.secret });
              reg.reload();
              return g;
            }}
            done={(g) => t('admin.created', { id: (g as Gateway).id })}
          />
        )}
      </div>
    </section>
  );
}

function GatewayRow(props: { gateway: Gateway; site: string; onRotated: (secret: string) => void; onRevoked: () => void }) {
  const { t, lang } = useI18n();
  const { api } = useSession();
  const now = useNow(30_000);
  const g = props.gateway;
  const path = `/gateways/${encodeURIComponent(g.id)}/secret`;
  return (
    <li class="admin-row" data-testid="gateway-row" data-id={g.id} data-state={g.state}>
      <div class="admin-row-main">
        <strong>{g.name}</strong> <span class="muted">({g.id})</span>
        <div class="muted">
          {props.site} ·{' '}
          {t(g.state === 'revoked' ? 'gw.state_revoked' : g.state === 'online' ? 'gw.state_online' : 'gw.state_other', { state: g.state })}
          {g.lastSeen && ` · ${t('gw.last_seen', { ago: formatAgo(g.lastSeen, now, lang) })}`}
        </div>
      </div>
      <ConfirmButton
        label={t('gw.rotate')}
        danger={false}
        testid="gateway-rotate"
        title={t('gw.rotate_title', { name: g.name })}
        consequence={t('gw.rotate_what')}
        action={async () => props.onRotated((await api.post<{ secret: string }>(path)).secret)}
      />
      {g.state !== 'revoked' && (
        <ConfirmButton
          label={t('gw.revoke')}
          testid="gateway-revoke"
          title={t('gw.revoke_title', { name: g.name })}
          consequence={t('gw.revoke_what')}
          action={async () => {
            await api.del(path);
            props.onRevoked();
          }}
        />
      )}
    </li>
  );
}

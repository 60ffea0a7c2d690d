// A gateway's secret, just issued (registration or rotation): shown this once, with the gateway's
// settings ready to copy as environment lines and as JSON. Nothing keeps it after "I have copied it".
import { useState } from 'preact/hooks';
import { useI18n } from '../context.ts';

export interface IssuedSecret {
  id: string;
  siteId: string;
  secret: string;
}

/** The gateway's settings (gateway/config.ts reads them from its environment). */
export function gatewaySettings(s: IssuedSecret, host: string): Record<string, string> {
  return {
    CARE_SITE_ID: s.siteId,
    CARE_GATEWAY_ID: s.id,
    CARE_GATEWAY_SECRET: s.secret,
    CARE_UPLINK_URL: `mqtt://${host}:1883`,
    CARE_GATEWAY_CONFIG: '/etc/care/gateway.json',
  };
}

export function GatewaySecret(props: { issued: IssuedSecret; onDone: () => void }) {
  const { t } = useI18n();
  const [copied, setCopied] = useState<'env' | 'json' | null>(null);
  const settings = gatewaySettings(props.issued, location.hostname || 'localhost');
  const env = Object.entries(settings)
    .map(([k, v]) => `${k}=${v}`)
    .join('\n');
  const json = JSON.stringify(settings, null, 2);
  const copy = (what: 'env' | 'json', text: string) =>
    void navigator.clipboard?.writeText(text).then(
      () => setCopied(what),
      () => setCopied(null),
    );
  return (
    <div class="secret" role="alert" data-testid="gateway-secret">
      <strong>{t('admin.secret_title')}</strong>
      <div>
        CARE_GATEWAY_ID=<code>{props.issued.id}</code>
      </div>
      <div>
        CARE_GATEWAY_SECRET=
        <code class="secret-value" data-testid="secret-value">
          {props.issued.secret}
        </code>
      </div>
      <p>{t('admin.secret_help')}</p>
      <label class="field">
        <span>{t('gw.env_file')}</span>
        <textarea class="copy-box" readOnly value={env} data-testid="gateway-env" rows={6} />
      </label>
      <label class="field">
        <span>{t('gw.json')}</span>
        <textarea class="copy-box" readOnly value={json} data-testid="gateway-json" rows={8} />
      </label>
      <p class="muted">{t('gw.config_help')}</p>
      <div class="form-actions">
        <button type="button" class="btn btn-quiet" onClick={() => copy('env', env)}>
          {copied === 'env' ? t('gw.copied') : t('gw.copy_env')}
        </button>
        <button type="button" class="btn btn-quiet" onClick={() => copy('json', json)}>
          {copied === 'json' ? t('gw.copied') : t('gw.copy_json')}
        </button>
        <button type="button" class="btn btn-primary" onClick={props.onDone} data-testid="secret-done">
          {t('admin.secret_done')}
        </button>
      </div>
    </div>
  );
}

// The top bar: navigation, the connection indicator, sound controls, language and sign-out; and
// the full-width banner shown whenever the live feed is down.
import type { ConnectionState } from '../lib/reconnect.ts';
import { type Route, routeHash } from '../lib/route.ts';
import { useI18n, useSession } from './context.ts';
import { PushControl } from './PushControl.tsx';

export interface SoundState {
  enabled: boolean;
  testing: boolean;
  onEnable: () => void;
  onDisable: () => void;
  onTest: () => void;
}

export function Header(props: {
  route: Route;
  connection: ConnectionState;
  sound: SoundState;
  onToggleLang: () => void;
  onLogout: () => void;
}) {
  const { t } = useI18n();
  const { user, isAdmin } = useSession();
  const link = (r: Route, label: string) => (
    <a href={routeHash(r)} class={props.route.page === r.page ? 'nav-link current' : 'nav-link'}>
      {label}
    </a>
  );
  return (
    <header class="topbar">
      <div class="brand">{t('app.title')}</div>
      <nav>
        {link({ page: 'board' }, t('nav.board'))}
        {link({ page: 'overview' }, t('nav.overview'))}
        {CENTRE_ROLES.has(user.role) && link({ page: 'centre' }, t('nav.centre'))}
        {isAdmin && link({ page: 'admin' }, t('nav.admin'))}
      </nav>
      <div class="topbar-right">
        <ConnectionIndicator state={props.connection} />
        <SoundControls {...props.sound} />
        <PushControl />
        <button type="button" class="btn btn-quiet" onClick={props.onToggleLang} data-testid="lang-switch">
          {t('lang.switch')}
        </button>
        <span class="user">
          {user.displayName ?? user.username} · {t(roleKey(user.role))}
        </span>
        <button type="button" class="btn btn-quiet" onClick={props.onLogout} data-testid="logout">
          {t('nav.logout')}
        </button>
      </div>
    </header>
  );
}

/** Who works with family care beds: the centre's board is in their navigation. */
const CENTRE_ROLES = new Set(['admin', 'centre_operator', 'grid_worker']);
const ROLE_KEYS = ['admin', 'nurse_lead', 'family', 'centre_operator', 'grid_worker', 'responder'] as const;

function roleKey(role: string) {
  const known = ROLE_KEYS.find((r) => r === role);
  return known ? (`role.${known}` as const) : ('role.caregiver' as const);
}

function ConnectionIndicator(props: { state: ConnectionState }) {
  const { t } = useI18n();
  const live = props.state === 'live';
  return (
    <span class={live ? 'conn conn-live' : 'conn conn-down'} data-testid="connection" data-state={props.state}>
      <span class="conn-dot" aria-hidden="true" />
      {live ? t('conn.live') : props.state === 'connecting' ? t('conn.connecting') : t('conn.reconnecting')}
    </span>
  );
}

function SoundControls(props: SoundState) {
  const { t } = useI18n();
  return (
    <span class="sound">
      {props.enabled ? (
        <button type="button" class="btn btn-quiet" onClick={props.onDisable} data-testid="sound-toggle" data-enabled="true">
          ♪ {t('sound.enabled')}
        </button>
      ) : (
        <button type="button" class="btn btn-warn pulse" onClick={props.onEnable} data-testid="sound-toggle" data-enabled="false">
          ⚠ {t('sound.enable')}
        </button>
      )}
      <button type="button" class="btn btn-quiet" onClick={props.onTest} disabled={props.testing} data-testid="sound-test">
        {props.testing ? t('sound.testing') : t('sound.test')}
      </button>
    </span>
  );
}

export function ReconnectBanner(props: { state: ConnectionState }) {
  const { t } = useI18n();
  if (props.state !== 'reconnecting') return null;
  return (
    <div class="reconnect-banner" role="alert" data-testid="reconnect-banner">
      ⚠ {t('conn.reconnecting')}
    </div>
  );
}

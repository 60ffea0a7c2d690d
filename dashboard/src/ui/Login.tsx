// The sign-in page.
import { useState } from 'preact/hooks';
import { ApiError, login } from '../api.ts';
import type { Session } from '../session.ts';
import { useI18n } from './context.ts';

export function Login(props: { onLogin: (s: Session) => void; onToggleLang: () => void; notice: string | null }) {
  const { t } = useI18n();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      props.onLogin((await login(username, password)) as Session);
    } catch (err) {
      setError(err instanceof ApiError && err.status === 401 ? t('login.failed') : t('login.error'));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="login">
      <form class="login-box" onSubmit={submit}>
        <div class="login-head">
          <h1>{t('app.title')}</h1>
          <button type="button" class="btn btn-quiet" onClick={props.onToggleLang}>
            {t('lang.switch')}
          </button>
        </div>
        <h2>{t('login.title')}</h2>
        {props.notice && <p class="notice">{props.notice}</p>}
        <label>
          {t('login.username')}
          <input name="username" autocomplete="username" value={username} onInput={(e) => setUsername(e.currentTarget.value)} required />
        </label>
        <label>
          {t('login.password')}
          <input
            name="password"
            type="password"
            autocomplete="current-password"
            value={password}
            onInput={(e) => setPassword(e.currentTarget.value)}
            required
          />
        </label>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" class="btn btn-primary" disabled={busy}>
          {t('login.submit')}
        </button>
      </form>
    </main>
  );
}

// The application shell: sign-in, then the signed-in screen with its live feed, alarm sound,
// header, reconnect banner and the page chosen by the URL hash.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { createApi, logout } from '../api.ts';
import { needsAttention } from '../lib/board.ts';
import { emptyFeed, type FeedState } from '../lib/feed-state.ts';
import { type Lang, translate } from '../lib/i18n.ts';
import type { ConnectionState } from '../lib/reconnect.ts';
import { parseRoute, type Route } from '../lib/route.ts';
import { startLiveFeed } from '../live.ts';
import { loadLang, loadSession, type Session, saveLang, saveSession } from '../session.ts';
import { AlarmSound } from '../sound.ts';
import { Admin } from './Admin.tsx';
import { Board } from './Board.tsx';
import { CentrePage } from './CentrePage.tsx';
import { AreasPage } from './centre/AreasPage.tsx';
import { HomesPage } from './centre/HomesPage.tsx';
import { type I18n, I18nContext, SessionContext, type SessionCtx } from './context.ts';
import { Header, ReconnectBanner } from './Header.tsx';
import { Login } from './Login.tsx';
import { Overview } from './Overview.tsx';
import { ResidentPage } from './ResidentPage.tsx';

export function App() {
  const [lang, setLang] = useState<Lang>(loadLang);
  const [session, setSession] = useState<Session | null>(loadSession);
  const [notice, setNotice] = useState<string | null>(null);
  const i18n = useMemo<I18n>(() => ({ lang, t: (k, p) => translate(lang, k, p) }), [lang]);

  useEffect(() => {
    document.documentElement.lang = lang;
    document.title = translate(lang, 'app.title');
  }, [lang]);

  const toggleLang = () => {
    const next: Lang = lang === 'en' ? 'zh-CN' : 'en';
    saveLang(next);
    setLang(next);
  };
  const signIn = (s: Session) => {
    saveSession(s);
    setNotice(null);
    setSession(s);
  };
  const signOut = (expired = false) => {
    // Signing out revokes the token on the server as well, so no copy of it (another tab, one
    // read off this machine) keeps working. Offline, the local session is cleared all the same.
    if (!expired && session) logout(session.token).catch(() => undefined);
    saveSession(null);
    setNotice(expired ? translate(lang, 'error.session_expired') : null);
    setSession(null);
  };

  return (
    <I18nContext.Provider value={i18n}>
      {session ? (
        <SignedIn session={session} onLogout={signOut} onToggleLang={toggleLang} key={session.token} />
      ) : (
        <Login onLogin={signIn} onToggleLang={toggleLang} notice={notice} />
      )}
    </I18nContext.Provider>
  );
}

function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const onHash = () => setRoute(parseRoute(location.hash));
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);
  return route;
}

function SignedIn(props: { session: Session; onLogout: (expired?: boolean) => void; onToggleLang: () => void }) {
  const { token, user } = props.session;
  const route = useRoute();
  const [feed, setFeed] = useState<FeedState>(emptyFeed);
  const [connection, setConnection] = useState<ConnectionState>('connecting');
  const sound = useMemo(() => new AlarmSound(), []);
  const [soundOn, setSoundOn] = useState(false);
  const [testing, setTesting] = useState(false);
  // The parent's callback changes with its renders (e.g. a language switch); that must not restart the feed.
  const logoutRef = useRef(props.onLogout);
  logoutRef.current = props.onLogout;

  const ctx = useMemo<SessionCtx>(
    () => ({
      api: createApi(token, () => logoutRef.current(true)),
      user,
      isAdmin: user.role === 'admin',
      canAct: user.role !== 'family' && user.role !== 'responder',
      canRespond: true,
      canResolve: user.role !== 'family',
    }),
    [token, user],
  );

  useEffect(() => {
    const live = startLiveFeed({
      token,
      onFeed: setFeed,
      onConnection: setConnection,
      sessionValid: async () => {
        const res = await fetch('/api/v1/auth/me', { headers: { authorization: `Bearer ${token}` } });
        return res.status !== 401;
      },
      onSessionEnded: () => logoutRef.current(true),
    });
    return () => live.stop();
  }, [token]);

  // A fresh install (no site yet): an administrator signing in is taken to the first-run setup.
  useEffect(() => {
    if (!ctx.isAdmin) return;
    ctx.api
      .get<{ sites: unknown[] }>('/sites')
      .then((r) => {
        if (r.sites.length === 0 && parseRoute(location.hash).page === 'board') location.hash = '#/admin/setup';
      })
      .catch(() => undefined);
  }, [ctx]);

  useEffect(() => sound.setAlarming(needsAttention(feed.alarms.values())), [sound, feed.alarms]);
  useEffect(() => () => void sound.disable(), [sound]);

  const soundState = {
    enabled: soundOn,
    testing,
    onEnable: () => void sound.enable().then(setSoundOn),
    onDisable: () => void sound.disable().then(() => setSoundOn(false)),
    onTest: () => {
      setTesting(true);
      void sound.test().then(() => {
        setSoundOn(sound.enabled);
        setTimeout(() => setTesting(false), 3200);
      });
    },
  };

  return (
    <SessionContext.Provider value={ctx}>
      <Header
        route={route}
        connection={connection}
        sound={soundState}
        onToggleLang={props.onToggleLang}
        onLogout={() => props.onLogout(false)}
      />
      <ReconnectBanner state={connection} />
      <main class="page">
        {route.page === 'board' && <Board alarms={feed.alarms} ready={feed.seq !== null} />}
        {route.page === 'overview' && <Overview feed={feed} />}
        {route.page === 'centre' && <Centre section={route.section} id={route.id} feed={feed} />}
        {route.page === 'resident' && <ResidentPage id={route.id} feed={feed} />}
        {route.page === 'admin' &&
          (ctx.isAdmin ? <Admin section={route.section} /> : <Board alarms={feed.alarms} ready={feed.seq !== null} />)}
      </main>
    </SessionContext.Provider>
  );
}

/** #/centre is the board; #/centre/areas and #/centre/homes/<areaId> set up the homes (issue 15). */
function Centre(props: { section?: string; id?: string; feed: FeedState }) {
  if (props.section === 'areas') return <AreasPage base="centre" />;
  if (props.section === 'homes') return <HomesPage base="centre" areaId={props.id} />;
  return <CentrePage feed={props.feed} />;
}

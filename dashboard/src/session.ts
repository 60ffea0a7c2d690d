// The signed-in session (token and user) in sessionStorage, so it ends with the tab, and the
// language choice in localStorage, so a wall screen keeps it across restarts.
import type { LoginAnswer, User } from '../../protocol/api.ts';
import { type Lang, parseLang } from './lib/i18n.ts';

export type { User };
/** What POST /api/v1/auth/login answers, kept for the tab's life. */
export type Session = LoginAnswer;

const SESSION_KEY = 'care.session';
const LANG_KEY = 'care.lang';

export function loadSession(): Session | null {
  try {
    const raw = sessionStorage.getItem(SESSION_KEY);
    if (!raw) return null;
    const s = JSON.parse(raw) as Session;
    if (!s.token || !s.user || Date.parse(s.expiresAt) <= Date.now()) return null;
    return s;
  } catch {
    return null;
  }
}

export function saveSession(s: Session | null): void {
  if (s) sessionStorage.setItem(SESSION_KEY, JSON.stringify(s));
  else sessionStorage.removeItem(SESSION_KEY);
}

export function loadLang(): Lang {
  try {
    return parseLang(localStorage.getItem(LANG_KEY));
  } catch {
    return parseLang(null);
  }
}

export function saveLang(lang: Lang): void {
  try {
    localStorage.setItem(LANG_KEY, lang);
  } catch {
    // Private mode: the choice lasts until reload, which is fine.
  }
}

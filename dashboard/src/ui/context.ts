// What every page needs without passing it down by hand: the language and `t`, the API and who is signed in.
import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { Api } from '../api.ts';
import { DEFAULT_LANG, type Lang, type MessageKey, type Params, translate } from '../lib/i18n.ts';
import type { User } from '../session.ts';

export interface I18n {
  lang: Lang;
  t: (key: MessageKey, params?: Params) => string;
}

export const I18nContext = createContext<I18n>({ lang: DEFAULT_LANG, t: (k, p) => translate(DEFAULT_LANG, k, p) });
export const useI18n = () => useContext(I18nContext);

export interface SessionCtx {
  api: Api;
  user: User;
  isAdmin: boolean;
  /** Staff work on alarms (snooze, device tests); family members and responders do not. */
  canAct: boolean;
  /** Acknowledge (accept) and report on site: everyone, for the alarms they see (access.ts). */
  canRespond?: boolean;
  /** Resolve with an outcome: not family members. */
  canResolve?: boolean;
}

export const SessionContext = createContext<SessionCtx | null>(null);
export function useSession(): SessionCtx {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession outside a signed-in page');
  return s;
}

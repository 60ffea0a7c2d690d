// "How long ago" for alarm cards and device tiles: short, coarse enough to read across a room,
// fine enough (seconds in the first minute) to see that a fresh alarm is fresh.
import { type Lang, translate } from './i18n.ts';

/** Formats an elapsed time in milliseconds; negative values (clock skew) read as "just now". */
export function formatElapsed(elapsedMs: number, lang: Lang): string {
  const s = Math.floor(elapsedMs / 1000);
  if (!Number.isFinite(s) || s < 10) return translate(lang, 'ago.now');
  if (s < 60) return translate(lang, 'ago.seconds', { s });
  const m = Math.floor(s / 60);
  if (m < 60) return translate(lang, 'ago.minutes', { m });
  const h = Math.floor(m / 60);
  if (h < 24) return translate(lang, 'ago.hours', { h, m: m % 60 });
  return translate(lang, 'ago.days', { d: Math.floor(h / 24) });
}

/** Formats how long ago `iso` was, seen at `nowMs`. */
export function formatAgo(iso: string, nowMs: number, lang: Lang): string {
  return formatElapsed(nowMs - Date.parse(iso), lang);
}

// Reconnect bookkeeping for the live feed: the WebSocket address (with `since=` once a sequence is
// known) and the backoff between attempts, capped so a screen is never more than ~5 s from retrying.
import { backoffDelay as sharedBackoffDelay } from '../../../protocol/backoff.ts';

export const BACKOFF_BASE_MS = 250;
export const BACKOFF_CAP_MS = 5000;

/** Delay before reconnect attempt `attempt` (0 = first retry): doubling from 250 ms, capped at 5 s, with jitter. */
export function backoffDelay(attempt: number, random: () => number = Math.random): number {
  // Jitter downwards only (75-100 %), so many screens do not retry in step and the cap still holds.
  return sharedBackoffDelay(attempt, { baseMs: BACKOFF_BASE_MS, capMs: BACKOFF_CAP_MS, minShare: 0.75, random });
}

/** The feed address for a page served from `location` (http -> ws, https -> wss). */
export function feedUrl(location: { protocol: string; host: string }, token: string, since: number | null): string {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const q = `token=${encodeURIComponent(token)}${since !== null ? `&since=${since}` : ''}`;
  return `${scheme}//${location.host}/ws?${q}`;
}

export type ConnectionState = 'connecting' | 'live' | 'reconnecting';

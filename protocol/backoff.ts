// Reconnect delays for everything that dials the broker (gateway uplink, simulators): exponential
// backoff with full jitter, each delay uniform in [0, min(cap, base * 2^attempt)). Without the
// jitter, every gateway of a restarted server retries in the same instant and each login's
// password check lands at once (issue 13: 300 uplinks within one ~1 s window).

export interface BackoffOptions {
  /** Upper bound of the first delay. */
  baseMs: number;
  /** No delay is longer than this. */
  capMs: number;
  /** Uniform in [0, 1); injected so tests can fix it. */
  random?: () => number;
}

/** The delay before retry number `attempt` (0 for the first retry). */
export function fullJitterDelay(attempt: number, opts: BackoffOptions): number {
  const random = opts.random ?? Math.random;
  // 2^attempt overflows to Infinity long after it passed the cap; min() keeps it finite.
  const ceiling = Math.min(opts.capMs, opts.baseMs * 2 ** Math.max(0, attempt));
  return Math.floor(random() * ceiling);
}

/** A retry counter: `next()` gives the delay before the next attempt, `reset()` after a success. */
export function createBackoff(opts: BackoffOptions) {
  let attempt = 0;
  return {
    next(): number {
      const delay = fullJitterDelay(attempt, opts);
      attempt += 1;
      return delay;
    },
    reset(): void {
      attempt = 0;
    },
    get attempts(): number {
      return attempt;
    },
  };
}
export type Backoff = ReturnType<typeof createBackoff>;

/** The defaults for a gateway's uplink: first retry within 1 s, none later than 30 s apart. */
export const UPLINK_BACKOFF = { baseMs: 1000, capMs: 30_000 } as const;

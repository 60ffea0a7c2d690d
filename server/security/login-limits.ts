// How many failed logins are allowed before logins are refused for a while (429). Only failures
// count, so a care home behind one address (NAT) is not locked out by its own staff logging in:
// - one account from one address: `perAccount` failures a window; the account's next success from
//   that address clears them;
// - one address, all accounts together: `perAddress` failures a window (higher), which stops one
//   address trying many usernames (spraying). An account that logged in from that address within
//   `knownForMs` is not held to it (only to its own limit), so others failing behind the same
//   address do not lock out the people who work there.
// An attempt in progress counts as a failure until it ends, so parallel guesses cannot overrun a
// limit. IPv6 addresses count by their /64, which one subscriber usually holds whole.
// Bounded: at most `maxEntries` counters; at the cap, expired ones go first, then the oldest, down to 90%.
import net from 'node:net';

export interface LoginLimitSettings {
  /** Failed logins a window for one username from one address. */
  perAccount: number;
  /** Failed logins a window from one address, all usernames together. */
  perAddress: number;
  windowMs: number;
  /** How long a success from an address exempts that account there from the address limit [7 days]. */
  knownForMs?: number;
  maxEntries?: number;
}

/** `unchecked`: the password was never checked (the server was too busy): counts as nothing. */
export type LoginOutcome = 'succeeded' | 'failed' | 'unchecked';

export type LoginGate =
  | { ok: true; finish(outcome: LoginOutcome): void }
  | { ok: false; scope: 'account' | 'address'; retryAfterMs: number };

interface Counter {
  failures: number;
  inFlight: number;
  resetAt: number;
}

/** The address a limit counts by: IPv4 as it is (also when IPv4-mapped), IPv6 by its /64. */
export function addressKey(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return mapped[1] as string;
  if (net.isIPv6(ip)) {
    const [head = '', tail = ''] = ip.split('::');
    const h = head ? head.split(':') : [];
    const t = tail ? tail.split(':') : [];
    const groups = ip.includes('::') ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t] : h;
    return `${groups
      .slice(0, 4)
      .map((g) => Number.parseInt(g || '0', 16).toString(16))
      .join(':')}::/64`;
  }
  return ip;
}

export function createLoginLimits(settings: LoginLimitSettings, now: () => number = Date.now) {
  const maxEntries = settings.maxEntries ?? 100_000;
  const knownForMs = settings.knownForMs ?? 7 * 86_400_000;
  const counters = new Map<string, Counter>();
  /** Address and account pairs that logged in, with when. */
  const known = new Map<string, number>();
  const isKnown = (key: string, t: number) => {
    const at = known.get(key);
    return at !== undefined && t - at < knownForMs;
  };
  const remember = (key: string, t: number) => {
    known.delete(key);
    known.set(key, t);
    while (known.size > maxEntries) known.delete(known.keys().next().value as string);
  };

  const counter = (key: string, t: number): Counter => {
    let c = counters.get(key);
    if (c && c.resetAt <= t) {
      c.failures = 0;
      c.resetAt = t + settings.windowMs;
    }
    if (!c) {
      if (counters.size >= maxEntries) evict(t);
      c = { failures: 0, inFlight: 0, resetAt: t + settings.windowMs };
      counters.set(key, c);
    }
    return c;
  };
  // Down to nine tenths at once: one scan per new counter at the cap made every login from a new
  // address cost `maxEntries` steps while someone sprays from many addresses.
  const lowWater = Math.floor(maxEntries * 0.9);
  function evict(t: number) {
    for (const [k, c] of counters) if (c.resetAt <= t && c.inFlight === 0) counters.delete(k);
    for (const [k, c] of counters) {
      if (counters.size <= lowWater) break;
      if (c.inFlight === 0) counters.delete(k);
    }
  }

  return {
    /** Before checking a password: refused, or let through with a `finish` to call once it is known. */
    begin(ip: string, username: string): LoginGate {
      const t = now();
      const address = addressKey(ip);
      const byAddress = counter(`a|${address}`, t);
      const accountKey = `${address}|${username}`;
      const byAccount = counter(`u|${accountKey}`, t);
      if (byAccount.failures + byAccount.inFlight >= settings.perAccount)
        return { ok: false, scope: 'account', retryAfterMs: byAccount.resetAt - t };
      if (byAddress.failures + byAddress.inFlight >= settings.perAddress && !isKnown(accountKey, t))
        return { ok: false, scope: 'address', retryAfterMs: byAddress.resetAt - t };
      byAddress.inFlight += 1;
      byAccount.inFlight += 1;
      let finished = false;
      return {
        ok: true,
        finish(outcome) {
          if (finished) return;
          finished = true;
          byAddress.inFlight -= 1;
          byAccount.inFlight -= 1;
          const at = now();
          if (outcome === 'unchecked') return;
          if (outcome === 'succeeded') {
            byAccount.failures = 0;
            remember(accountKey, at);
            return;
          }
          // A counter whose window ended while the check ran starts a new window with this failure.
          for (const c of [byAddress, byAccount]) {
            if (c.resetAt <= at) {
              c.failures = 0;
              c.resetAt = at + settings.windowMs;
            }
            c.failures += 1;
          }
        },
      };
    },
    size: () => counters.size,
  };
}

export type LoginLimits = ReturnType<typeof createLoginLimits>;

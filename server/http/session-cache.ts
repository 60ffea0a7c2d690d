// Bearer tokens found valid a moment ago, so that a burst of reads (a wall of screens polling, a
// benchmark) does not hash the token and read its session from the database for every request
// (docs/profile-rest-reads.md: the session lookup was the largest cost left per cached alarm page).
//
// A kept session never outlives what ends it on this instance: every successful write through the
// API (logout, a user's new password, role or scope, anything else) forgets every kept session
// before its answer leaves (app.ts), and a lookup that began before such a write is not kept
// (`generation`). A session is also never served past its own expiry, and never older than `ttlMs`.
// Only a server that is the deployment's one instance keeps sessions (server.ts): with others, a
// logout there must be refused here at once (test/e2e/logout-instances.test.ts), which a cache here
// could not know before the bus delivered it.

export interface SessionCacheOptions {
  /** Sessions kept at most; the oldest goes first. */
  maxEntries?: number;
  /** A session is looked up again after this long, changes or not. */
  ttlMs?: number;
  now?: () => number;
}

export function createSessionCache<T>({ maxEntries = 10_000, ttlMs = 1000, now = Date.now }: SessionCacheOptions = {}) {
  // Keyed by the token as sent: hashing it first would be the very cost saved. Tokens live only in
  // this process's memory, as they do in every request that carries one.
  const kept = new Map<string, { at: number; expiresAt: number; value: T }>();
  let generation = 0;
  return {
    get(token: string): T | undefined {
      const hit = kept.get(token);
      if (!hit) return undefined;
      const t = now();
      if (t - hit.at > ttlMs || t >= hit.expiresAt) {
        kept.delete(token);
        return undefined;
      }
      return hit.value;
    },
    /**
     * Keeps what `token` was found to be, until `expiresAt` (ms) at the latest, unless sessions
     * were forgotten since `generationAtRead` (the lookup may predate a logout).
     */
    set(token: string, value: T, expiresAt: number, generationAtRead: number) {
      if (generationAtRead !== generation) return;
      if (kept.size >= maxEntries) kept.delete(kept.keys().next().value as string);
      kept.set(token, { at: now(), expiresAt, value });
    },
    /** Read before the lookup: a write during it keeps its result out. */
    generation: () => generation,
    /** A session may have ended or an account changed: every kept session is looked up again. */
    clear() {
      generation += 1;
      kept.clear();
    },
    size: () => kept.size,
  };
}
export type SessionCache<T> = ReturnType<typeof createSessionCache<T>>;

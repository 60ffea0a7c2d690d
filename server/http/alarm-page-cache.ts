// The answer to `GET /api/v1/alarms`, kept per caller and query until any alarm changes. A wall of
// screens polling the list (or a dashboard reloaded by a whole shift at 07:00) then costs a map
// lookup instead of reading and serialising up to 500 alarms each time (docs/profile-rest-reads.md:
// about 0.7 of the 1.9 ms a request took). Any alarm change seen here or, through the bus, on another
// instance clears it; the short lifetime bounds what a missed bus message could leave stale.
// A page is kept as the bytes sent (UTF-8), not as text: a string would be encoded again and its
// byte length counted again for every answer (27 KB each for the bench's 50 alarms).

export interface AlarmPageCacheOptions {
  /** Pages kept at most; the oldest goes first. */
  maxEntries?: number;
  /** A page is never served older than this, changes or not. */
  ttlMs?: number;
  now?: () => number;
}

export function createAlarmPageCache({ maxEntries = 2000, ttlMs = 1000, now = Date.now }: AlarmPageCacheOptions = {}) {
  const pages = new Map<string, { at: number; body: Buffer }>();
  let generation = 0;
  return {
    /** The serialised page, or undefined when none is fresh. */
    get(key: string): Buffer | undefined {
      const hit = pages.get(key);
      if (!hit) return undefined;
      if (now() - hit.at > ttlMs) {
        pages.delete(key);
        return undefined;
      }
      return hit.body;
    },
    /**
     * Keeps `body` unless an alarm changed since `generationAtRead` (the page was read before that
     * change and may miss it).
     */
    set(key: string, body: Buffer, generationAtRead: number) {
      if (generationAtRead !== generation) return;
      if (pages.size >= maxEntries) pages.delete(pages.keys().next().value as string);
      pages.set(key, { at: now(), body });
    },
    /** Read before the query: a change during the query keeps its result out of the cache. */
    generation: () => generation,
    /** An alarm was raised or changed, here or on another instance. */
    changed() {
      generation += 1;
      pages.clear();
    },
    size: () => pages.size,
  };
}
export type AlarmPageCache = ReturnType<typeof createAlarmPageCache>;

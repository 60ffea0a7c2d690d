// The ingest hot path reads the same devices, residents and sites thousands of times a second.
// This cache answers from memory for a few seconds (unknown devices too), and is cleared whenever
// the registry changes through this server. Another instance's change shows within the TTL.
import type { Device, Registry, Resident, Site } from '../storage/registry.ts';

export function createLookupCache(registry: Registry, ttlMs = 5000, maxEntries = 100_000) {
  type Entry<T> = { at: number; value: T | undefined };
  const devices = new Map<string, Entry<Device>>();
  const residents = new Map<string, Entry<Resident>>();
  const sites = new Map<string, Entry<Site>>();

  function cached<T>(map: Map<string, Entry<T>>, load: (id: string) => Promise<T | undefined>) {
    return async (id: string): Promise<T | undefined> => {
      const hit = map.get(id);
      const now = Date.now();
      if (hit && now - hit.at < ttlMs) return hit.value;
      const value = await load(id);
      if (map.size >= maxEntries) map.clear();
      map.set(id, { at: now, value });
      return value;
    };
  }

  return {
    getDevice: cached(devices, (id) => registry.getDevice(id)),
    getResident: cached(residents, (id) => registry.getResident(id)),
    getSite: cached(sites, (id) => registry.getSite(id)),
    /** A device came back, or its state changed under us: read it afresh next time. */
    forgetDevice(id: string) {
      devices.delete(id);
    },
    /** Entries held (each map is capped at `maxEntries`: a flood of made-up ids clears it). */
    size: () => devices.size + residents.size + sites.size,
    clear() {
      devices.clear();
      residents.clear();
      sites.clear();
    },
  };
}
export type LookupCache = ReturnType<typeof createLookupCache>;

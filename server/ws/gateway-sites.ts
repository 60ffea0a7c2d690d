// Which site each gateway belongs to, for scoping device status on the live feed (the feed decides
// per message, synchronously). A gateway never changes site, so an entry once read stays true; a
// gateway not yet known (registered a moment ago, or on another instance) is read afresh, at most
// once per `minRefreshMs`, and until then its status is shown to nobody who is bound to a site.
import type { Registry } from '../storage/registry.ts';

export function createGatewaySites(
  registry: Pick<Registry, 'listGateways'>,
  onError: (err: unknown) => void,
  opts: { minRefreshMs?: number; now?: () => number } = {},
) {
  const minRefreshMs = opts.minRefreshMs ?? 5_000;
  const now = opts.now ?? Date.now;
  const sites = new Map<string, string>();
  let lastRefresh = -Infinity;
  let running: Promise<void> | null = null;

  async function refresh(): Promise<void> {
    if (running) return running;
    lastRefresh = now();
    running = registry
      .listGateways()
      .then((gateways) => {
        for (const g of gateways) sites.set(g.id, g.siteId);
      })
      .finally(() => {
        running = null;
      });
    return running;
  }

  // A gateway was registered or changed: read at once, but at most once a second (registering
  // thousands in a row must not read the whole gateway table for each: O(n²)).
  let timer: NodeJS.Timeout | null = null;
  function changed(): void {
    if (timer) return;
    const wait = lastRefresh + 1_000 - now();
    if (wait <= 0) refresh().catch(onError);
    else {
      timer = setTimeout(() => {
        timer = null;
        refresh().catch(onError);
      }, wait);
      timer.unref();
    }
  }

  return {
    refresh,
    changed,
    close() {
      if (timer) clearTimeout(timer);
      timer = null;
    },
    /** The gateway's site, or undefined while it is not known (a read is started, rate-limited). */
    siteOf(gatewayId: string): string | undefined {
      const site = sites.get(gatewayId);
      if (site === undefined && now() - lastRefresh >= minRefreshMs) refresh().catch(onError);
      return site;
    },
  };
}
export type GatewaySites = ReturnType<typeof createGatewaySites>;

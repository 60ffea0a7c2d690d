// Per-gateway publish rate: a token bucket per gateway id, refilled at `perSecond` and holding up
// to `burst`. Keyed by the gateway, not the connection, so reconnecting does not refill it (a
// gateway cut off for publishing too fast reconnected and got a fresh burst each time).
// Bounded: a bucket idle long enough to be full again says nothing a new one would not, so such
// buckets are dropped whenever the map grows past `sweepAbove`.

export interface GatewayRateLimit {
  /** Takes one message from the gateway's bucket: false when it is publishing too fast. */
  take(gatewayId: string): boolean;
  size(): number;
}

export function createGatewayRateLimit(
  rate: { perSecond: number; burst: number },
  opts: { now?: () => number; sweepAbove?: number } = {},
): GatewayRateLimit {
  const now = opts.now ?? Date.now;
  const sweepAbove = opts.sweepAbove ?? 1000;
  const buckets = new Map<string, { tokens: number; at: number }>();
  const fullAfterMs = (rate.burst / rate.perSecond) * 1000;
  let lastSweep = 0;

  function sweep(t: number) {
    lastSweep = t;
    for (const [id, b] of buckets) if (t - b.at >= fullAfterMs) buckets.delete(id);
  }

  return {
    take(gatewayId) {
      const t = now();
      if (buckets.size > sweepAbove && t - lastSweep >= 1000) sweep(t);
      let b = buckets.get(gatewayId);
      if (!b) {
        b = { tokens: rate.burst, at: t };
        buckets.set(gatewayId, b);
      }
      b.tokens = Math.min(rate.burst, b.tokens + (Math.max(0, t - b.at) / 1000) * rate.perSecond);
      b.at = t;
      if (b.tokens < 1) return false;
      b.tokens -= 1;
      return true;
    },
    size: () => buckets.size,
  };
}

// A fixed-window counter per key with a bounded number of keys, for the no-login response routes
// (per address and per token). When the table is full the oldest window is dropped: one peer
// cycling through addresses can only forget others' counts early, never lock anyone out.
export interface WindowLimiter {
  /** Counts one hit for `key`; false when the key is over its limit in the current window. */
  hit(key: string): boolean;
  size(): number;
}

export function createWindowLimiter(opts: { max: number; windowMs: number; maxKeys: number; now: () => number }): WindowLimiter {
  const windows = new Map<string, { start: number; n: number }>();
  return {
    hit(key) {
      const t = opts.now();
      let w = windows.get(key);
      if (!w || t - w.start >= opts.windowMs) {
        if (w) windows.delete(key);
        while (windows.size >= opts.maxKeys) {
          const oldest = windows.keys().next().value;
          if (oldest === undefined) break;
          windows.delete(oldest);
        }
        w = { start: t, n: 0 };
        windows.set(key, w);
      }
      w.n += 1;
      return w.n <= opts.max;
    },
    size: () => windows.size,
  };
}

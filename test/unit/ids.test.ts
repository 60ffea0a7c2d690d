import { describe, expect, it } from 'vitest';
import { pooledRandom, ulidSource } from '../../protocol/clock.ts';

describe('ids', () => {
  it('draws random numbers in [0, 1) past the end of its pool, and they vary', () => {
    const r = pooledRandom(16);
    const seen = new Set<number>();
    for (let i = 0; i < 1000; i += 1) {
      const x = r();
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThan(1);
      seen.add(x);
    }
    // 1,000 draws from 256 values through 62 refills: a pool that never refilled would repeat 16.
    expect(seen.size).toBeGreaterThan(200);
  });

  it('gives unique, time-sorted ULIDs', () => {
    const ids = ulidSource();
    const all = Array.from({ length: 5000 }, () => ids.next());
    expect(new Set(all).size).toBe(all.length);
    expect([...all].sort()).toEqual(all);
    for (const id of all.slice(0, 50)) expect(id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    // Two sources started in the same millisecond still differ in their random part.
    expect(ulidSource().next().slice(10)).not.toBe(ulidSource().next().slice(10));
  });
});

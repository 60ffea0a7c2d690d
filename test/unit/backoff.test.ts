// Reconnect backoff (protocol/backoff.ts): every delay stays inside its exponential ceiling, and
// delays are spread evenly over it (full jitter), so clients that lost the server together do
// not come back together.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backoffDelay, createBackoff, PORT_BACKOFF, UPLINK_BACKOFF } from '../../protocol/backoff.ts';
import { busiestWindow } from '../helpers/spread.ts';

describe('full-jitter backoff', () => {
  it('never waits less than 0 or as long as min(cap, base * 2^attempt)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2000 }),
        fc.integer({ min: 1, max: 10_000 }),
        fc.integer({ min: 1, max: 600_000 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (attempt, baseMs, capMs, r) => {
          const d = backoffDelay(attempt, { baseMs, capMs, random: () => r });
          expect(Number.isInteger(d)).toBe(true);
          expect(d).toBeGreaterThanOrEqual(0);
          expect(d).toBeLessThan(Math.max(1, Math.min(capMs, baseMs * 2 ** attempt)));
        },
      ),
    );
  });

  it('doubles its ceiling per attempt up to the cap, and starts over after a reset', () => {
    const top = () => 1 - Number.EPSILON;
    const b = createBackoff({ baseMs: 1000, capMs: 30_000, random: top });
    const ceilings = Array.from({ length: 8 }, () => b.next() + 1);
    expect(ceilings).toEqual([1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000]);
    expect(b.attempts).toBe(8);
    b.reset();
    expect(b.next()).toBe(999);
  });

  it('spreads delays evenly over the whole window', () => {
    // Attempt 3 of the uplink defaults: uniform over [0, 8 s).
    const delays = Array.from({ length: 20_000 }, () => backoffDelay(3, UPLINK_BACKOFF));
    const mean = delays.reduce((a, b) => a + b, 0) / delays.length;
    expect(mean).toBeGreaterThan(4000 * 0.95);
    expect(mean).toBeLessThan(4000 * 1.05);
    const buckets = Array.from({ length: 8 }, (_, k) => delays.filter((d) => d >= k * 1000 && d < (k + 1) * 1000).length);
    // Each second of the window holds about an eighth (2,500); none is empty or crowded.
    for (const n of buckets) {
      expect(n).toBeGreaterThan(2500 * 0.85);
      expect(n).toBeLessThan(2500 * 1.15);
    }
  });

  it('300 clients that lost the server together retry at most a fraction of them in any one second', () => {
    // Each client's time of its fifth retry: the sum of its first five delays.
    const times = Array.from({ length: 300 }, () => {
      const b = createBackoff(UPLINK_BACKOFF);
      let t = 0;
      for (let i = 0; i < 5; i++) t += b.next();
      return t;
    });
    // A fixed period puts all 300 in the same instant; full jitter spreads them over ~30 s.
    expect(busiestWindow(times, 1000)).toBeLessThan(300 * 0.2);
    expect(Math.max(...times) - Math.min(...times)).toBeGreaterThan(10_000);
  });
});

describe('the same helper without full jitter', () => {
  it('keeps minShare of the ceiling: 1 is plain doubling (local ports, written-down retries)', () => {
    const port = createBackoff(PORT_BACKOFF);
    expect(Array.from({ length: 7 }, () => port.next())).toEqual([1000, 2000, 4000, 8000, 16_000, 30_000, 30_000]);
    port.reset();
    expect(port.next()).toBe(1000);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 40 }), fc.double({ min: 0, max: 0.999_999, noNaN: true }), (attempt, r) => {
        const ceiling = Math.min(5000, 250 * 2 ** attempt);
        const d = backoffDelay(attempt, { baseMs: 250, capMs: 5000, minShare: 0.75, random: () => r });
        return d >= Math.floor(ceiling * 0.75) && d <= ceiling;
      }),
    );
  });
});

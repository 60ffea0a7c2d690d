// The server's event-loop delay metric must be able to show a loop that is not held: Node's
// monitor records the whole interval between its checks, so at prom-client's default 10 ms an idle
// loop read p99 10.4 ms and the minimum was never under 9 ms; a "p99 < 10 ms" goal could not be met
// whatever the server did. Checked each 1 ms, an idle loop's median reads about 1.1 ms.
import { describe, expect, it } from 'vitest';
import { createMetrics, EVENT_LOOP_PRECISION_MS } from '../../server/metrics.ts';
import { waitFor } from '../helpers/harness.ts';

describe('event-loop delay metric', () => {
  it('reads the delay at a 1 ms resolution, not 10 ms', async () => {
    expect(EVENT_LOOP_PRECISION_MS).toBe(1);
    const { registry } = createMetrics();
    const reading = (text: string, q: string) =>
      Number(text.match(new RegExp(`^nodejs_eventloop_lag_${q}_seconds (\\S+)$`, 'm'))?.[1] ?? Number.NaN);
    // Each scrape resets the monitor. A window's first sample can be a stray near 0: wait for one
    // whose p90 is a real interval, then judge its median (about 10.2 ms at a 10 ms check).
    let median = Number.NaN;
    await waitFor(async () => {
      const text = await registry.metrics();
      if (!(reading(text, 'p90') > 0.0005)) return false;
      median = reading(text, 'p50');
      return true;
    }, 'a window of event-loop readings');
    expect(median).toBeGreaterThan(0);
    expect(median).toBeLessThan(0.005);
  });
});

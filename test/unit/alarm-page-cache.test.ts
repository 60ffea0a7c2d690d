import { describe, expect, it } from 'vitest';
import { createAlarmPageCache } from '../../server/http/alarm-page-cache.ts';

describe('alarm page cache', () => {
  it('serves a page until an alarm changes, and never keeps one read before a change', () => {
    let t = 0;
    const cache = createAlarmPageCache({ now: () => t });
    const g = cache.generation();
    const page = Buffer.from('{"alarms":[]}');
    cache.set('u1|', page, g);
    expect(cache.get('u1|')).toBe(page);
    cache.changed();
    expect(cache.get('u1|')).toBeUndefined();
    // Read before the change, stored after it: it may miss the change, so it is not kept.
    cache.set('u1|', Buffer.from('stale'), g);
    expect(cache.get('u1|')).toBeUndefined();
    const fresh = Buffer.from('fresh');
    cache.set('u1|', fresh, cache.generation());
    expect(cache.get('u1|')).toBe(fresh);
    t += 1001;
    expect(cache.get('u1|')).toBeUndefined();
  });

  it('holds a bounded number of pages', () => {
    const cache = createAlarmPageCache({ maxEntries: 3 });
    const x = Buffer.from('x');
    for (let i = 0; i < 10; i += 1) cache.set(`k${i}`, x, cache.generation());
    expect(cache.size()).toBe(3);
    expect(cache.get('k9')).toBe(x);
    expect(cache.get('k0')).toBeUndefined();
  });
});

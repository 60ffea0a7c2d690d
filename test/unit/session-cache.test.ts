import { describe, expect, it } from 'vitest';
import { createSessionCache } from '../../server/http/session-cache.ts';

describe('session cache', () => {
  it('keeps a session for its lifetime at most, and never past the session’s own expiry', () => {
    let t = 0;
    const cache = createSessionCache<string>({ now: () => t, ttlMs: 1000 });
    cache.set('tok', 'carer', 10_000, cache.generation());
    expect(cache.get('tok')).toBe('carer');
    t = 1001;
    expect(cache.get('tok')).toBeUndefined();
    cache.set('tok', 'carer', 1500, cache.generation());
    t = 1499;
    expect(cache.get('tok')).toBe('carer');
    t = 1500;
    expect(cache.get('tok')).toBeUndefined();
  });

  it('forgets every session on clear, and keeps no lookup that began before it', () => {
    const cache = createSessionCache<string>({ now: () => 0 });
    const g = cache.generation();
    cache.set('a', 'A', 10_000, g);
    cache.set('b', 'B', 10_000, g);
    cache.clear();
    expect(cache.get('a')).toBeUndefined();
    expect(cache.get('b')).toBeUndefined();
    // Looked up before a logout, stored after it: it may be the ended session, so it is not kept.
    cache.set('a', 'A', 10_000, g);
    expect(cache.get('a')).toBeUndefined();
    cache.set('a', 'A', 10_000, cache.generation());
    expect(cache.get('a')).toBe('A');
  });

  it('holds a bounded number of sessions', () => {
    const cache = createSessionCache<number>({ maxEntries: 3, now: () => 0 });
    for (let i = 0; i < 10; i += 1) cache.set(`t${i}`, i, 10_000, cache.generation());
    expect(cache.size()).toBe(3);
    expect(cache.get('t9')).toBe(9);
    expect(cache.get('t0')).toBeUndefined();
  });
});

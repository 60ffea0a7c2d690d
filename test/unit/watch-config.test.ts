// CARE_WATCH_* settings (server/watch/config.ts): defaults, off, and a bad value named.
import { describe, expect, it } from 'vitest';
import { loadWatchConfig } from '../../server/watch/config.ts';

describe('watch listener configuration', () => {
  it('defaults, with any free port under the test runner', () => {
    expect(loadWatchConfig({})).toEqual({ port: 0, maxPerAddress: 200, maxConnections: 10_000, idleMs: 900_000, maxContentBytes: 4096 });
    expect(loadWatchConfig({ CARE_WATCH_PORT: '5093', CARE_WATCH_IDLE_SECONDS: '300' })).toMatchObject({ port: 5093, idleMs: 300_000 });
  });

  it('off turns the listener off', () => {
    expect(loadWatchConfig({ CARE_WATCH_PORT: 'off' })).toBeNull();
  });

  it('a bad value stops the start, naming the key', () => {
    expect(() => loadWatchConfig({ CARE_WATCH_PORT: '70000' })).toThrow(/CARE_WATCH_PORT/);
    expect(() => loadWatchConfig({ CARE_WATCH_MAX_FRAME_BYTES: '10' })).toThrow(/CARE_WATCH_MAX_FRAME_BYTES/);
    expect(() => loadWatchConfig({ CARE_WATCH_MAX_PER_ADDRESS: 'many' })).toThrow(/CARE_WATCH_MAX_PER_ADDRESS/);
  });
});

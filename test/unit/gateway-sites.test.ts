// The live feed's gateway-to-site map: known gateways answer at once; an unknown one is read
// afresh, at most once per interval, and stays unknown (shown to nobody bound to a site) until then.
import { describe, expect, it } from 'vitest';
import { createGatewaySites } from '../../server/ws/gateway-sites.ts';

function fakeRegistry(initial: Array<{ id: string; siteId: string }>) {
  const state = { gateways: [...initial], reads: 0 };
  return {
    state,
    registry: {
      listGateways: async () => {
        state.reads += 1;
        return state.gateways.map((g) => ({ ...g, name: g.id, state: 'online', lastSeen: null, createdAt: '' }));
      },
    },
  };
}

describe('gateway sites for the live feed', () => {
  it('answers known gateways at once and reads an unknown one again at most once per interval', async () => {
    let now = 0;
    const { state, registry } = fakeRegistry([{ id: 'gw-a', siteId: 'site-a' }]);
    const sites = createGatewaySites(
      registry,
      (err) => {
        throw err;
      },
      { minRefreshMs: 5_000, now: () => now },
    );
    await sites.refresh();
    expect(sites.siteOf('gw-a')).toBe('site-a');
    expect(state.reads).toBe(1);

    state.gateways.push({ id: 'gw-b', siteId: 'site-b' });
    now = 1_000;
    expect(sites.siteOf('gw-b')).toBeUndefined(); // too soon after the last read: no read, unknown
    expect(state.reads).toBe(1);
    now = 6_000;
    expect(sites.siteOf('gw-b')).toBeUndefined(); // unknown now; a read starts
    for (let i = 0; i < 100; i++) sites.siteOf(`forged-${i}`); // a flood of unknown ids: no more reads
    await Promise.resolve();
    await Promise.resolve();
    expect(state.reads).toBe(2);
    expect(sites.siteOf('gw-b')).toBe('site-b');
  });

  it('a failed read is reported, and the gateway stays unknown', async () => {
    const errors: unknown[] = [];
    const sites = createGatewaySites(
      {
        listGateways: async () => {
          throw new Error('database gone');
        },
      },
      (err) => errors.push(err),
      { minRefreshMs: 0 },
    );
    expect(sites.siteOf('gw-x')).toBeUndefined();
    await new Promise((r) => setTimeout(r, 0));
    expect(errors).toHaveLength(1);
    expect(sites.siteOf('gw-x')).toBeUndefined();
  });

  it('a registry change reads at once, then at most once a second however many follow', async () => {
    let now = 10_000;
    const { state, registry } = fakeRegistry([{ id: 'gw-a', siteId: 'site-a' }]);
    const sites = createGatewaySites(
      registry,
      (err) => {
        throw err;
      },
      { now: () => now },
    );
    sites.changed(); // nothing read yet: at once
    await Promise.resolve();
    expect(state.reads).toBe(1);
    state.gateways.push({ id: 'gw-b', siteId: 'site-b' });
    for (let i = 0; i < 1000; i++) sites.changed(); // a burst of registrations: one read, later
    expect(state.reads).toBe(1);
    now += 1_000;
    await new Promise((r) => setTimeout(r, 1_050));
    expect(state.reads).toBe(2);
    expect(sites.siteOf('gw-b')).toBe('site-b');
    sites.close();
  });
});

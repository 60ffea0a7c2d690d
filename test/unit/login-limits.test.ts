// Login limits and hashing as pure parts: failures counted per account and address, successes
// clearing them, in-flight attempts counted, the hashing line bounded, and proved gateway secrets
// never outliving a rotation.
import { describe, expect, it } from 'vitest';
import { createGatewaySecrets } from '../../server/security/gateway-secrets.ts';
import { createHashQueue, HashQueueFull } from '../../server/security/hash-queue.ts';
import { addressKey, createLoginLimits } from '../../server/security/login-limits.ts';
import { GATEWAY_SECRET_COST, hashSecret } from '../../server/security/passwords.ts';

describe('login limits', () => {
  const make = (t: { now: number }) => createLoginLimits({ perAccount: 3, perAddress: 5, windowMs: 60_000 }, () => t.now);
  const fail = (l: ReturnType<typeof make>, ip: string, user: string) => {
    const g = l.begin(ip, user);
    if (g.ok) g.finish('failed');
    return g.ok ? 'checked' : g.scope;
  };

  it('limits one account from one address, then lets it try again after the window', () => {
    const t = { now: 0 };
    const l = make(t);
    expect([1, 2, 3, 4].map(() => fail(l, '10.0.0.1', 'ann'))).toEqual(['checked', 'checked', 'checked', 'account']);
    expect(fail(l, '10.0.0.2', 'ann')).toBe('checked');
    t.now += 60_000;
    expect(fail(l, '10.0.0.1', 'ann')).toBe('checked');
  });

  it('limits one address across usernames, except for accounts that logged in from it', () => {
    const t = { now: 0 };
    const l = make(t);
    const g = l.begin('10.0.0.1', 'admin');
    if (g.ok) g.finish('succeeded');
    for (let i = 0; i < 5; i += 1) expect(fail(l, '10.0.0.1', `u${i}`)).toBe('checked');
    expect(fail(l, '10.0.0.1', 'u9')).toBe('address');
    expect(l.begin('10.0.0.1', 'admin').ok).toBe(true);
  });

  it('counts attempts in progress, so parallel guesses cannot overrun the limit', () => {
    const l = make({ now: 0 });
    const gates = [1, 2, 3, 4, 5].map(() => l.begin('10.0.0.1', 'ann'));
    expect(gates.map((g) => g.ok)).toEqual([true, true, true, false, false]);
  });

  it('a success clears the account, an unchecked attempt counts as nothing', () => {
    const l = make({ now: 0 });
    fail(l, '10.0.0.1', 'ann');
    fail(l, '10.0.0.1', 'ann');
    const ok = l.begin('10.0.0.1', 'ann');
    if (ok.ok) ok.finish('succeeded');
    const busy = l.begin('10.0.0.1', 'ann');
    if (busy.ok) busy.finish('unchecked');
    expect([1, 2, 3, 4].map(() => fail(l, '10.0.0.1', 'ann'))).toEqual(['checked', 'checked', 'checked', 'account']);
  });

  it('stays bounded', () => {
    const l = createLoginLimits({ perAccount: 3, perAddress: 5, windowMs: 60_000, maxEntries: 100 }, () => 0);
    for (let i = 0; i < 1000; i += 1) fail(l, `10.0.${i >> 8}.${i & 255}`, 'x');
    expect(l.size()).toBeLessThanOrEqual(100);
  });

  it('counts IPv6 by /64 and IPv4-mapped addresses as IPv4', () => {
    expect(addressKey('2001:db8:1:2:aaaa::1')).toBe(addressKey('2001:db8:1:2:bbbb:cccc:dddd:eeee'));
    expect(addressKey('2001:db8:1:2::1')).not.toBe(addressKey('2001:db8:1:3::1'));
    expect(addressKey('::ffff:192.0.2.7')).toBe('192.0.2.7');
    expect(addressKey('192.0.2.7')).toBe('192.0.2.7');
  });
});

describe('the hashing line', () => {
  it('runs at most `concurrency` at once, queues `maxWaiting`, refuses the rest at once', async () => {
    const q = createHashQueue({ concurrency: 2, maxWaiting: 1 });
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const runs = [1, 2, 3].map(() => q.run(() => gate.then(() => 'done')));
    expect([q.running(), q.waiting()]).toEqual([2, 1]);
    await expect(q.run(async () => 'never')).rejects.toBeInstanceOf(HashQueueFull);
    release();
    expect(await Promise.all(runs)).toEqual(['done', 'done', 'done']);
    expect([q.running(), q.waiting()]).toEqual([0, 0]);
  });
});

describe('gateway secrets', () => {
  it('a proved secret is accepted again, a wrong one never, and a rotated hash is checked afresh', async () => {
    const s = createGatewaySecrets();
    const hash = await hashSecret('secret-one', GATEWAY_SECRET_COST);
    expect(await s.verify('secret-one', hash)).toBe(true);
    expect(await s.verify('secret-one', hash)).toBe(true);
    expect(await s.verify('secret-two', hash)).toBe(false);
    const rotated = await hashSecret('secret-two', GATEWAY_SECRET_COST);
    expect(await s.verify('secret-one', rotated)).toBe(false);
    expect(await s.verify('secret-two', rotated)).toBe(true);
  });
});

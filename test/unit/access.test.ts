// accessFor (server/http/access.ts) per role, from the facts loadAccess reads: what each may see
// and do, and that a new role with nothing to go on sees nothing (never "all sites").
import { describe, expect, it } from 'vitest';
import type { Alarm } from '../../protocol/index.ts';
import { accessFor } from '../../server/http/access.ts';
import type { User } from '../../server/storage/users.ts';

const user = (role: User['role'], extra: Partial<User> = {}): User => ({
  id: `u-${role}`,
  username: role,
  role,
  displayName: null,
  siteId: null,
  residentId: null,
  ...extra,
});
const alarm = (id: string, siteId: string, residentId: string | null = null) => ({ id, siteId, residentId }) as Alarm;

describe('accessFor', () => {
  it('a centre operator sees the sites of their areas and acts there; without an area, nothing', () => {
    const a = accessFor(user('centre_operator', { areaId: 'street' }), { areaIds: ['street', 'c1'], siteIds: new Set(['s1']) });
    expect([a.canSeeSite('s1'), a.canSeeSite('s2'), a.canSeeSite(null)]).toEqual([true, false, false]);
    expect([a.canSeeAlarm(alarm('x', 's1')), a.canSeeAlarm(alarm('y', 's2'))]).toEqual([true, false]);
    expect([a.canSeeArea('c1'), a.canSeeArea('other')]).toEqual([true, false]);
    expect(a.alarmScope).toEqual({ kind: 'areas', areaIds: ['street', 'c1'] });
    expect([a.canAct, a.canRespond, a.canResolve, a.allSites, a.isAdmin]).toEqual([true, true, true, false, false]);
    const none = accessFor(user('centre_operator'));
    expect([none.canSeeSite('s1'), none.alarmScope]).toEqual([false, { kind: 'none' }]);
  });

  it('a grid worker sees their homes only; bound to no site they still do not see every site', () => {
    const g = accessFor(user('grid_worker'), { siteIds: new Set(['s2']) });
    expect([g.canSeeSite('s2'), g.canSeeSite('s1')]).toEqual([true, false]);
    expect(g.alarmScope).toEqual({ kind: 'grid_worker', userId: 'u-grid_worker' });
    expect(accessFor(user('grid_worker')).canSeeSite('s2')).toBe(false);
  });

  it('a responder sees the alarms escalated to them, no site or resident; may accept and resolve, not snooze', () => {
    const r = accessFor(user('responder'), { alarmIds: new Set(['a1']) });
    expect([r.canSeeAlarm(alarm('a1', 's1')), r.canSeeAlarm(alarm('a2', 's1'))]).toEqual([true, false]);
    expect([r.canSeeSite('s1'), r.canSeeResident({ id: 'r1', siteId: 's1' })]).toEqual([false, false]);
    expect(r.alarmScope).toEqual({ kind: 'responder', targets: ['u-responder', 'responder'] });
    expect([r.canAct, r.canRespond, r.canResolve]).toEqual([false, true, true]);
  });

  it('a family login sees its relative and those whose contacts name it; may accept, not resolve', () => {
    const f = accessFor(user('family', { residentId: 'r1' }), { residentIds: new Set(['r2']) });
    expect([f.canSeeAlarm(alarm('a', 's1', 'r1')), f.canSeeAlarm(alarm('b', 's9', 'r2')), f.canSeeAlarm(alarm('c', 's1', 'r3'))]).toEqual([
      true,
      true,
      false,
    ]);
    expect(f.canSeeAlarm(alarm('d', 's1', null))).toBe(false);
    expect(f.alarmScope).toEqual({ kind: 'residents', residentIds: ['r2', 'r1'] });
    expect(accessFor(user('family', { residentId: 'r1' })).alarmScope).toEqual({ kind: 'resident', residentId: 'r1' });
    expect(accessFor(user('family')).alarmScope).toEqual({ kind: 'none' });
    expect([f.canAct, f.canRespond, f.canResolve, f.canSeeSite('s1')]).toEqual([false, true, false, false]);
  });

  it('site staff as before: their site, or every site when bound to none', () => {
    const c = accessFor(user('caregiver', { siteId: 's1' }));
    expect([c.canSeeSite('s1'), c.canSeeSite('s2'), c.alarmScope]).toEqual([true, false, { kind: 'site', siteId: 's1' }]);
    const all = accessFor(user('nurse_lead'));
    expect([all.canSeeSite('s2'), all.allSites, all.alarmScope]).toEqual([true, true, { kind: 'all' }]);
    const admin = accessFor(user('admin'));
    expect([admin.isAdmin, admin.canSeeArea('any'), admin.alarmScope]).toEqual([true, true, { kind: 'all' }]);
  });
});

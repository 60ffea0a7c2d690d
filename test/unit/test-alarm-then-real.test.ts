// A device test's alarm still open when the device raises a real one (a resident presses the button
// after the caregiver's test): the alarm becomes real and escalates; a real call is never hidden as
// a test. Found by test/browser/first-run.test.ts, where the second press stayed a test alarm.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlarmSubject } from '../../server/alarms/engine.ts';
import { createRouteWorld, RESIDENT_A, type RouteWorld, SITE_A } from '../helpers/routes.ts';

let world: RouteWorld;
beforeAll(async () => {
  world = await createRouteWorld();
});
afterAll(async () => world?.close());

const press = (test: boolean) => {
  const subject: AlarmSubject = {
    siteId: SITE_A,
    gatewayId: null,
    deviceId: 'btn-101',
    residentId: RESIDENT_A,
    room: '101',
    unregistered: false,
    at: world.now(),
    ...(test ? { test: true } : {}),
  };
  return world.db
    .transaction()
    .execute((tx) => world.engine.apply(tx, [{ kind: 'raise', type: 'call', priority: 'high' }], subject, 'test'));
};

describe('a test alarm followed by a real press', () => {
  it('the test alarm is a test and is not escalated; the real press makes it real, with an escalation due', async () => {
    const [id] = await press(true);
    const row = () =>
      world.db
        .selectFrom('alarms')
        .selectAll()
        .where('id', '=', id as string)
        .executeTakeFirstOrThrow();
    expect(await row()).toMatchObject({ test: 1, next_escalation_at: null, count: 1 });
    world.clock.advance(30_000);
    expect(await press(false)).toEqual([id]);
    const after = await row();
    expect(after).toMatchObject({ test: 0, count: 2, state: 'active' });
    expect(after.next_escalation_at).not.toBeNull();
    expect((await world.alarms.get(id as string))?.test).toBe(false);
    const audit = await world.db
      .selectFrom('audit')
      .select('detail')
      .where('alarm_id', '=', id as string)
      .where('action', '=', 'repeat')
      .execute();
    expect(JSON.parse(audit[0]?.detail ?? '{}')).toMatchObject({ noLongerTest: true });
  });

  it('a second test press leaves it a test', async () => {
    world.clock.advance(60_000);
    await world.db.updateTable('alarms').set({ state: 'resolved' }).execute();
    const [id] = await press(true);
    expect(await press(true)).toEqual([id]);
    expect((await world.alarms.get(id as string))?.test).toBe(true);
  });
});

// Shifts: alarms reach the on-duty caregiver's screen first, and a site whose on-duty caregivers
// have no screen open raises its own alarm, cleared when one connects. Fake clock for the grace time.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alarm } from '../../protocol/index.ts';
import { FakeClock } from '../helpers/fake-clock.ts';
import { type DemoSite, registerSite, Screen, startTestServer, type TestServer, waitFor } from '../helpers/harness.ts';

const clock = new FakeClock(Date.parse('2026-11-23T12:00:00.000Z'));
let server: TestServer;
let site: DemoSite;
let carerId: string;
let carerToken: string;

beforeAll(async () => {
  server = await startTestServer(undefined, { clock });
  site = await registerSite(server);
  const carer = await server.api<{ id: string }>('POST', '/api/v1/users', {
    username: 'night-carer',
    password: 'a long enough password',
    role: 'caregiver',
    siteId: site.siteId,
  });
  carerId = carer.body.id;
  carerToken = (
    await server.api<{ token: string }>('POST', '/api/v1/auth/login', { username: 'night-carer', password: 'a long enough password' }, '')
  ).body.token;
});
afterAll(async () => {
  await server?.stop();
});

describe('shifts', () => {
  it('a nurse lead or admin plans a shift; a caregiver cannot', async () => {
    const body = { siteId: site.siteId, userId: carerId, start: '2026-11-23T11:00:00.000Z', end: '2026-11-23T19:00:00.000Z' };
    expect((await server.api('POST', '/api/v1/shifts', body, carerToken)).status).toBe(403);
    const created = await server.api<{ id: string }>('POST', '/api/v1/shifts', body);
    expect(created.status).toBe(201);
    const active = await server.api<{ shifts: Array<{ userId: string }> }>(
      'GET',
      `/api/v1/shifts?siteId=${site.siteId}&activeAt=2026-11-23T12:00:00.000Z`,
    );
    expect(active.body.shifts.map((s) => s.userId)).toEqual([carerId]);
  });

  it('an on-duty area with no screen open raises no_caregiver after the grace time, cleared when the caregiver connects', async () => {
    await server.tick();
    clock.advance(60_000);
    await server.tick();
    const none = await server.api<{ alarms: Alarm[] }>('GET', '/api/v1/alarms?state=active');
    expect(none.body.alarms.filter((a) => a.type === 'no_caregiver')).toHaveLength(0);
    clock.advance(70_000);
    await server.tick();
    const raised = await waitFor(
      async () =>
        (await server.api<{ alarms: Alarm[] }>('GET', '/api/v1/alarms?state=active')).body.alarms.find((a) => a.type === 'no_caregiver'),
      'no_caregiver alarm',
    );
    expect(raised).toMatchObject({ priority: 'medium', siteId: site.siteId });
    const screen = await Screen.open(server, undefined, carerToken);
    await server.tick();
    await screen.waitForAlarm((a) => a.id === raised.id && a.state === 'resolved');
    screen.close();
  });
});

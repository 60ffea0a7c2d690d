// Editing the registry and accounts (PATCH sites, residents, devices, users) through app.inject()
// on the real route plugins, stores and migrations (in-memory SQLite): only what is sent changes,
// each change is in the audit trail, bad references are refused and change nothing, a moved
// resident takes their devices along, and a reset password or changed role ends the user's sessions.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registryEditRoutes } from '../../../server/http/registry-edits.ts';
import { userRoutes } from '../../../server/http/users.ts';
import { tokenDigest } from '../../../server/security/passwords.ts';
import { createRegistryEdits } from '../../../server/storage/registry-edits.ts';
import { type Account, createRouteWorld, RESIDENT_A, RESIDENT_B, type RouteWorld, SITE_A, SITE_B } from '../../helpers/routes.ts';

let world: RouteWorld;
let app: FastifyInstance;
const ended: string[] = [];

beforeAll(async () => {
  world = await createRouteWorld();
  const edits = createRegistryEdits(world.db);
  const { db, registry, now } = world;
  app = await world.app(async (a) => {
    await a.register(registryEditRoutes, { db, registry, edits, now });
    await a.register(userRoutes, { db, registry, edits, now, onSessionsEnded: (d) => ended.push(...d) });
  }, {});
  for (const [id, site] of [
    ['gw-a', SITE_A],
    ['gw-a2', SITE_A],
    ['gw-b', SITE_B],
  ] as const)
    await registry.createGateway({ id, siteId: site, name: id, secretHash: 'x' }, now());
  await registry.createDevice({ id: 'bed-101', gatewayId: 'gw-a', kind: 'bed_sensor', residentId: RESIDENT_A, room: '101' }, now());
  await registry.createDevice({ id: 'door-hall', gatewayId: 'gw-a', kind: 'door_sensor', residentId: RESIDENT_A, room: 'hall' }, now());
});
afterAll(async () => world?.close());

const patch = (who: Account, url: string, body: unknown) =>
  app.inject({ method: 'PATCH', url, headers: { authorization: `Bearer ${world.tokens[who]}` }, payload: body as object });

async function auditOf(subject: string) {
  const rows = await world.db.selectFrom('audit').selectAll().where('subject', '=', subject).orderBy('id').execute();
  return rows.map((r) => ({ actor: r.actor, action: r.action, detail: r.detail ? JSON.parse(r.detail) : null }));
}

describe('PATCH /api/v1/sites/:id', () => {
  it('renames a site and changes its time zone; only what was sent changes, and the audit says from what to what', async () => {
    const res = await patch('admin', `/api/v1/sites/${SITE_A}`, { name: 'Sunrise Home', timezone: 'Asia/Shanghai' });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ id: SITE_A, name: 'Sunrise Home', kind: 'nursing_home', timezone: 'Asia/Shanghai' });
    expect(await auditOf(SITE_A)).toEqual([
      {
        actor: 'admin',
        action: 'site.updated',
        detail: { changed: { name: { from: SITE_A, to: 'Sunrise Home' }, timezone: { from: 'UTC', to: 'Asia/Shanghai' } } },
      },
    ]);
  });

  it('refuses an unknown time zone, a bad kind and unknown properties, changing nothing', async () => {
    expect((await patch('admin', `/api/v1/sites/${SITE_A}`, { timezone: 'Mars/Olympus' })).statusCode).toBe(400);
    expect((await patch('admin', `/api/v1/sites/${SITE_A}`, { kind: 'castle' })).statusCode).toBe(400);
    expect((await patch('admin', `/api/v1/sites/${SITE_A}`, { name: 'x', secret: 'y' })).statusCode).toBe(400);
    expect((await world.registry.getSite(SITE_A))?.name).toBe('Sunrise Home');
    expect((await patch('admin', '/api/v1/sites/nowhere', { name: 'x' })).statusCode).toBe(404);
  });

  it('is for administrators only', async () => {
    for (const who of ['leadA', 'caregiverA', 'familyA'] as const)
      expect((await patch(who, `/api/v1/sites/${SITE_A}`, { name: 'Mine' })).statusCode).toBe(403);
  });
});

describe('PATCH /api/v1/residents/:id', () => {
  it('moves a resident to another room with their devices whose room was theirs; settings merge', async () => {
    await world.registry.updateResidentSettings(RESIDENT_A, { wanderRisk: true, inactivityMinutes: 240 });
    const res = await patch('admin', `/api/v1/residents/${RESIDENT_A}`, { room: '305', bed: 'B', settings: { inactivityMinutes: 120 } });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ room: '305', bed: 'B', settings: { wanderRisk: true, inactivityMinutes: 120 } });
    expect((await world.registry.getDevice('bed-101'))?.room).toBe('305');
    // A device placed apart from the resident's room stays where it is.
    expect((await world.registry.getDevice('door-hall'))?.room).toBe('hall');
    const [entry] = await auditOf(RESIDENT_A);
    expect(entry).toMatchObject({ action: 'resident.updated', detail: { devicesMoved: ['bed-101'] } });
    expect(entry?.detail.changed.room).toEqual({ from: '101', to: '305' });
    expect(entry?.detail.changed.settings.to).toEqual({ wanderRisk: true, inactivityMinutes: 120 });
  });

  it('clears a bed with null; refuses settings out of range and an empty room', async () => {
    expect((await patch('admin', `/api/v1/residents/${RESIDENT_A}`, { bed: null })).json().bed).toBeNull();
    expect((await patch('admin', `/api/v1/residents/${RESIDENT_A}`, { settings: { inactivityMinutes: -1 } })).statusCode).toBe(400);
    expect((await patch('admin', `/api/v1/residents/${RESIDENT_A}`, { room: '' })).statusCode).toBe(400);
    expect((await patch('caregiverA', `/api/v1/residents/${RESIDENT_A}`, { room: '1' })).statusCode).toBe(403);
    expect((await world.registry.getResident(RESIDENT_A))?.room).toBe('305');
  });
});

describe('PATCH /api/v1/devices/:id', () => {
  it("re-assigns a device to another gateway of the site and to nobody, then to a resident (taking the resident's room)", async () => {
    let res = await patch('admin', '/api/v1/devices/door-hall', { gatewayId: 'gw-a2', residentId: null });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ gatewayId: 'gw-a2', residentId: null, room: 'hall' });
    res = await patch('admin', '/api/v1/devices/door-hall', { residentId: RESIDENT_A });
    expect(res.json()).toMatchObject({ residentId: RESIDENT_A, room: '305' });
    res = await patch('admin', '/api/v1/devices/door-hall', { supervisionSeconds: 3600 });
    expect(res.json().supervisionSeconds).toBe(3600);
    const actions = (await auditOf('door-hall')).map((e) => e.detail.changed);
    expect(actions[0]).toEqual({ gateway_id: { from: 'gw-a', to: 'gw-a2' }, resident_id: { from: RESIDENT_A, to: null } });
  });

  it("refuses a resident of another site than the gateway's, and unknown gateways and residents, changing nothing", async () => {
    const r1 = await patch('admin', '/api/v1/devices/bed-101', { residentId: RESIDENT_B });
    expect(r1.statusCode).toBe(400);
    expect(r1.json().message).toMatch(/not on gateway gw-a's site/);
    // Moving the device to site B's gateway while it still belongs to site A's resident is refused too.
    expect((await patch('admin', '/api/v1/devices/bed-101', { gatewayId: 'gw-b' })).statusCode).toBe(400);
    expect((await patch('admin', '/api/v1/devices/bed-101', { gatewayId: 'gw-nowhere' })).statusCode).toBe(400);
    expect((await patch('admin', '/api/v1/devices/bed-101', { residentId: 'res-nobody' })).statusCode).toBe(400);
    expect((await patch('admin', '/api/v1/devices/bed-101', { supervisionSeconds: 5 })).statusCode).toBe(400);
    expect(await world.registry.getDevice('bed-101')).toMatchObject({ gatewayId: 'gw-a', residentId: RESIDENT_A });
    // Both together move it to the other site.
    const ok = await patch('admin', '/api/v1/devices/bed-101', { gatewayId: 'gw-b', residentId: RESIDENT_B });
    expect(ok.json()).toMatchObject({ gatewayId: 'gw-b', residentId: RESIDENT_B, room: '201' });
    expect((await patch('leadA', '/api/v1/devices/bed-101', { room: 'x' })).statusCode).toBe(403);
  });
});

describe('PATCH /api/v1/users/:id', () => {
  const sessionsOf = async (userId: string) =>
    (await world.db.selectFrom('sessions').select('token_hash').where('user_id', '=', userId).execute()).map((r) => r.token_hash);

  it('renames without ending sessions; a password reset ends them and is audited without the password', async () => {
    const id = world.userIds.caregiverA;
    let res = await patch('admin', `/api/v1/users/${id}`, { displayName: '李护理员' });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ id, displayName: '李护理员', role: 'caregiver', siteId: SITE_A });
    expect(await sessionsOf(id)).toHaveLength(1);
    res = await patch('admin', `/api/v1/users/${id}`, { password: 'a new long password' });
    expect(res.statusCode).toBe(200);
    expect(await sessionsOf(id)).toEqual([]);
    expect(ended).toContain(tokenDigest(world.tokens.caregiverA));
    const audit = await auditOf(id);
    expect(audit.at(-1)).toMatchObject({ action: 'user.updated', detail: { changed: { password: 'reset' }, sessionsEnded: 1 } });
    expect(JSON.stringify(audit)).not.toContain('a new long password');
    // The old token no longer works.
    expect((await patch('caregiverA', `/api/v1/users/${id}`, { displayName: 'x' })).statusCode).toBe(401);
  });

  it('binds a family account to another resident (ending its sessions); refuses a family account without one', async () => {
    const id = world.userIds.familyA;
    expect((await patch('admin', `/api/v1/users/${id}`, { residentId: null })).statusCode).toBe(400);
    const res = await patch('admin', `/api/v1/users/${id}`, { residentId: RESIDENT_B });
    expect(res.json()).toMatchObject({ role: 'family', residentId: RESIDENT_B });
    expect(await sessionsOf(id)).toEqual([]);
    expect((await patch('admin', `/api/v1/users/${id}`, { siteId: 'no-such-site' })).statusCode).toBe(400);
    expect((await patch('admin', `/api/v1/users/${id}`, { role: 'wizard' })).statusCode).toBe(400);
  });

  it("sets a phone for SMS and a centre operator's area (a new area ends their sessions); refuses a bad number and an unknown area", async () => {
    const id = world.userIds.caregiverB;
    await world.db
      .insertInto('areas')
      .values({ id: 'area-street-1', parent_id: null, kind: 'district', name: '西城区', created_at: new Date().toISOString() })
      .execute();
    let res = await patch('admin', `/api/v1/users/${id}`, { phone: '+8613800138000' });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ phone: '+8613800138000' });
    expect(await sessionsOf(id)).toHaveLength(1); // a phone number does not change what they may see
    expect((await patch('admin', `/api/v1/users/${id}`, { phone: '13800138000' })).statusCode).toBe(400);
    expect((await patch('admin', `/api/v1/users/${id}`, { role: 'centre_operator' })).statusCode).toBe(400);
    expect((await patch('admin', `/api/v1/users/${id}`, { role: 'centre_operator', areaId: 'no-such-area' })).statusCode).toBe(400);
    res = await patch('admin', `/api/v1/users/${id}`, { role: 'centre_operator', areaId: 'area-street-1', siteId: null });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ role: 'centre_operator', areaId: 'area-street-1', phone: '+8613800138000' });
    expect(await sessionsOf(id)).toEqual([]);
    // Another area alone is another scope: a session they hold ends.
    await world.db
      .insertInto('areas')
      .values({ id: 'area-street-2', parent_id: null, kind: 'district', name: '东城区', created_at: new Date().toISOString() })
      .execute();
    const at = new Date().toISOString();
    await world.db
      .insertInto('sessions')
      .values({ token_hash: 'digest-of-a-session', user_id: id, expires_at: '2999-01-01T00:00:00.000Z', created_at: at })
      .execute();
    expect((await patch('admin', `/api/v1/users/${id}`, { areaId: 'area-street-2' })).json()).toMatchObject({ areaId: 'area-street-2' });
    expect(await sessionsOf(id)).toEqual([]);
    res = await patch('admin', `/api/v1/users/${id}`, { phone: null });
    expect(res.json()).toMatchObject({ phone: null });
  });

  it('will not demote the last administrator; others may not edit accounts', async () => {
    const res = await patch('admin', `/api/v1/users/${world.userIds.admin}`, { role: 'caregiver' });
    expect(res.statusCode).toBe(409);
    expect(res.json().message).toMatch(/last administrator/);
    expect((await patch('leadA', `/api/v1/users/${world.userIds.leadA}`, { role: 'admin' })).statusCode).toBe(403);
    expect((await patch('admin', '/api/v1/users/usr-nobody', { displayName: 'x' })).statusCode).toBe(404);
  });
});

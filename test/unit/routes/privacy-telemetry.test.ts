// A resident's data: charts (GET /residents/:id/telemetry, every read audited), the export and the
// erasure (administrators only), through inject (test/helpers/routes.ts) on the SQL telemetry store.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TelemetrySeries } from '../../../protocol/api.ts';
import { privacyRoutes } from '../../../server/http/privacy.ts';
import { telemetryRoutes } from '../../../server/http/telemetry.ts';
import { createBatchingTelemetry } from '../../../server/storage/telemetry.ts';
import { sqlTelemetryBackend } from '../../../server/storage/telemetry-sql.ts';
import { call, createRouteWorld, RESIDENT_A, RESIDENT_B, type RouteWorld, SITE_A } from '../../helpers/routes.ts';

let world: RouteWorld;
let charts: FastifyInstance;
let privacy: FastifyInstance;

beforeAll(async () => {
  world = await createRouteWorld();
  const telemetry = createBatchingTelemetry(sqlTelemetryBackend(world.db, 'sqlite'), world.log, () => {});
  const at = new Date(world.clock.now() - 600_000).toISOString();
  await world.db
    .insertInto('telemetry')
    .values([
      { site_id: SITE_A, device_id: 'vit-1', resident_id: RESIDENT_A, metric: 'heart_rate', value: 72, ts: at },
      { site_id: SITE_A, device_id: 'vit-1', resident_id: RESIDENT_A, metric: 'spo2', value: 97, ts: at },
    ])
    .execute();
  charts = await world.app(telemetryRoutes, { db: world.db, registry: world.registry, telemetry, now: world.now });
  privacy = await world.app(privacyRoutes, { db: world.db, registry: world.registry, alarms: world.alarms, now: world.now });
});
afterAll(() => world.close());

describe('telemetry route', () => {
  it('needs a login', async () => {
    expect((await call(charts, world, null, 'GET', `/api/v1/residents/${RESIDENT_A}/telemetry`)).statusCode).toBe(401);
  });

  it('answers an unknown metric or a reversed window with 400', async () => {
    const bad = await call(charts, world, 'admin', 'GET', `/api/v1/residents/${RESIDENT_A}/telemetry?metric=mood`);
    expect(bad.statusCode).toBe(400);
    expect(bad.json().message).toMatch(/metric/);
    const reversed = await call(
      charts,
      world,
      'admin',
      'GET',
      `/api/v1/residents/${RESIDENT_A}/telemetry?from=2026-03-02T07:00:00Z&to=2026-03-01T07:00:00Z`,
    );
    expect(reversed.statusCode).toBe(400);
    expect(reversed.json().message).toBe('from is after to');
  });

  it('gives the resident’s points to their site and family, audited, and 404 to another site', async () => {
    const res = await call(charts, world, 'familyA', 'GET', `/api/v1/residents/${RESIDENT_A}/telemetry?metric=heart_rate`);
    expect(res.statusCode).toBe(200);
    const body = res.json() as TelemetrySeries;
    expect(body.points).toEqual([expect.objectContaining({ metric: 'heart_rate', value: 72, device: 'vit-1' })]);
    // The default window is the last 24 hours: averaged over buckets.
    expect(body.downsampled).toBeGreaterThan(0);
    expect((await call(charts, world, 'caregiverB', 'GET', `/api/v1/residents/${RESIDENT_A}/telemetry`)).statusCode).toBe(404);
    expect((await call(charts, world, 'familyA', 'GET', `/api/v1/residents/${RESIDENT_B}/telemetry`)).statusCode).toBe(404);
    const views = await world.db.selectFrom('audit').selectAll().where('action', '=', 'view.resident').execute();
    expect(views.map((v) => [v.actor, v.subject])).toContainEqual(['familyA', RESIDENT_A]);
    // Refused reads are not views.
    expect(views.filter((v) => v.actor === 'caregiverB' || v.subject === RESIDENT_B)).toEqual([]);
  });
});

describe('privacy routes', () => {
  it('need a login, and are an administrator’s', async () => {
    expect((await call(privacy, world, null, 'GET', `/api/v1/residents/${RESIDENT_A}/export`)).statusCode).toBe(401);
    expect((await call(privacy, world, 'leadA', 'GET', `/api/v1/residents/${RESIDENT_A}/export`)).statusCode).toBe(403);
    expect((await call(privacy, world, 'leadA', 'DELETE', `/api/v1/residents/${RESIDENT_A}`)).statusCode).toBe(403);
  });

  it('refuse an over-long id with 400', async () => {
    const res = await call(privacy, world, 'admin', 'GET', `/api/v1/residents/${'x'.repeat(65)}/export`);
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toMatch(/id/);
  });

  it('export a resident’s data, then erase it and keep the alarm detached', async () => {
    const alarm = await world.raise(RESIDENT_A);
    const exported = await call(privacy, world, 'admin', 'GET', `/api/v1/residents/${RESIDENT_A}/export`);
    expect(exported.statusCode).toBe(200);
    const data = exported.json() as { resident: { id: string }; alarms: Array<{ id: string }>; telemetry: unknown[] };
    expect(data.resident.id).toBe(RESIDENT_A);
    expect(data.alarms.map((a) => a.id)).toEqual([alarm.id]);
    expect(data.telemetry).toHaveLength(2);
    const erased = await call(privacy, world, 'admin', 'DELETE', `/api/v1/residents/${RESIDENT_A}`);
    expect(erased.json()).toEqual({ id: RESIDENT_A, deleted: true });
    expect(await world.registry.getResident(RESIDENT_A)).toBeUndefined();
    expect((await world.alarms.get(alarm.id))?.residentId).toBeNull();
    expect(await world.db.selectFrom('telemetry').selectAll().where('resident_id', '=', RESIDENT_A).execute()).toEqual([]);
    expect((await call(privacy, world, 'admin', 'DELETE', `/api/v1/residents/${RESIDENT_A}`)).statusCode).toBe(404);
  });
});

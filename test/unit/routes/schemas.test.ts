// GET /api/v1/schemas through inject: a signed-in user of any role reads the body schemas the
// forms are drawn from; without a login it is refused. (The real server's collection of every
// route's body schema is exercised by test/browser/first-run.test.ts, whose forms come from it.)
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SitePatch } from '../../../server/http/registry-edits.ts';
import { schemaRoutes } from '../../../server/http/schemas.ts';
import { createRouteWorld, type RouteWorld } from '../../helpers/routes.ts';

let world: RouteWorld;
let app: FastifyInstance;
beforeAll(async () => {
  world = await createRouteWorld();
  app = await world.app(schemaRoutes, { bodies: () => ({ 'PATCH /api/v1/sites/:id': SitePatch }) });
});
afterAll(async () => world?.close());

describe('GET /api/v1/schemas', () => {
  it('hands any signed-in user the body schemas as plain JSON Schema', async () => {
    for (const who of ['admin', 'caregiverA', 'familyA'] as const) {
      const res = await app.inject({ method: 'GET', url: '/api/v1/schemas', headers: { authorization: `Bearer ${world.tokens[who]}` } });
      expect(res.statusCode).toBe(200);
      const schema = res.json().bodies['PATCH /api/v1/sites/:id'];
      expect(schema).toMatchObject({ type: 'object', properties: { kind: { enum: ['nursing_home', 'family_bed'] } } });
    }
  });

  it('refuses a caller without a login', async () => {
    expect((await app.inject({ method: 'GET', url: '/api/v1/schemas' })).statusCode).toBe(401);
  });
});

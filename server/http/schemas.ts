// GET /api/v1/schemas: the request body schemas the server validates with, keyed "METHOD url",
// so the dashboard draws its forms from them (dashboard/src/ui/forms) instead of a hand-written
// copy that drifts, and without carrying TypeBox in its bundle. Any signed-in user may read them:
// they say what a request must look like, nothing about anyone's data.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';

export const BodySchemas = Type.Object({
  bodies: Type.Record(Type.String(), Type.Unknown(), { description: '"METHOD /api/v1/..." -> the JSON Schema of its body' }),
});

export interface SchemaRouteOptions {
  /** The body schemas of every route registered so far. */
  bodies: () => Record<string, unknown>;
}

export const schemaRoutes: FastifyPluginAsyncTypebox<SchemaRouteOptions> = async (app, { bodies }) => {
  app.addHook('onRequest', app.authenticate);
  app.get('/api/v1/schemas', { schema: { tags: ['forms'], response: { 200: BodySchemas } } }, async () => ({ bodies: bodies() }));
};

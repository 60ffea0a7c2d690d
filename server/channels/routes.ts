// Web Push subscriptions of logged-in users' browsers: the dashboard (installed as a PWA on a
// phone) asks for the VAPID public key, subscribes with it, and registers the subscription here.
// Each user registers and removes only their own; a push to them then reaches every browser of
// theirs (server/channels/person.ts).
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync } from 'fastify';
import Type from 'typebox';
import { ApiError } from '../http/errors.ts';
import type { PushSubscriptions } from './push.ts';
import { type SmsReceiptRouteOptions, smsReceiptRoutes } from './receipt-routes.ts';

export interface PushRouteOptions {
  subscriptions: PushSubscriptions;
  vapidPublicKey: string;
  /** Plain http:// push endpoints (a test's or a lab's own push service); real ones are https [false]. */
  allowHttpEndpoints?: boolean;
  /** A cloud SMS provider's pushed delivery reports (receipt-routes.ts); the route answers 404 without. */
  smsReceipts?: SmsReceiptRouteOptions;
}

const B64URL = (min: number, max: number) => Type.String({ pattern: '^[A-Za-z0-9_-]+={0,2}$', minLength: min, maxLength: max });
const SubscriptionBody = Type.Object(
  {
    endpoint: Type.String({ minLength: 10, maxLength: 1000 }),
    // A P-256 point (65 bytes) and a 16-byte auth secret, base64url as PushSubscription.toJSON() gives them.
    keys: Type.Object({ p256dh: B64URL(80, 100), auth: B64URL(16, 30) }),
    expirationTime: Type.Optional(Type.Union([Type.Number(), Type.Null()])),
  },
  { additionalProperties: false },
);
const SubscriptionView = Type.Object({ id: Type.String(), endpoint: Type.String(), createdAt: Type.String() });

export const pushRoutes: FastifyPluginAsync<PushRouteOptions> = async (plain, opts) => {
  const app = plain.withTypeProvider<TypeBoxTypeProvider>();
  const { subscriptions } = opts;
  // The channels' other no-login route: SMS delivery reports pushed by a cloud provider.
  await plain.register(smsReceiptRoutes, opts.smsReceipts ?? { accept: null });

  app.get(
    '/api/v1/push/vapid-public-key',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['push'],
        summary: 'The key a browser subscribes to Web Push with',
        response: { 200: Type.Object({ publicKey: Type.String() }) },
      },
    },
    async () => ({ publicKey: opts.vapidPublicKey }),
  );

  app.post(
    '/api/v1/push/subscriptions',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['push'],
        summary: "Registers this browser's Web Push subscription for the logged-in user",
        body: SubscriptionBody,
        response: { 201: SubscriptionView },
      },
    },
    async (req, reply) => {
      let url: URL;
      try {
        url = new URL(req.body.endpoint);
      } catch {
        throw new ApiError(400, 'VALIDATION', 'endpoint: not a URL');
      }
      // The server will POST to this address: only a push service's https address (an http one
      // would let any user aim the server at a service on the inside).
      if (url.protocol !== 'https:' && !(opts.allowHttpEndpoints && url.protocol === 'http:'))
        throw new ApiError(400, 'VALIDATION', 'endpoint: must be an https:// push service address');
      if (url.username || url.password) throw new ApiError(400, 'VALIDATION', 'endpoint: no credentials in the address');
      const row = await subscriptions.add(req.access.user.id, { endpoint: url.toString(), keys: req.body.keys });
      return reply.code(201).send({ id: row.id, endpoint: row.endpoint, createdAt: row.created_at });
    },
  );

  app.delete(
    '/api/v1/push/subscriptions/:id',
    {
      onRequest: app.authenticate,
      schema: {
        tags: ['push'],
        summary: "Removes one of the logged-in user's Web Push subscriptions",
        params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) }),
        response: { 200: Type.Object({ removed: Type.Boolean() }) },
      },
    },
    async (req) => {
      // Someone else's subscription answers as an unknown one does.
      if (!(await subscriptions.remove(req.params.id, req.access.user.id)))
        throw new ApiError(404, 'NOT_FOUND', 'no such subscription of yours');
      return { removed: true };
    },
  );
};

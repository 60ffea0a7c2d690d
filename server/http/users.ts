// Editing accounts (administrators): PATCH a user's display name, role, site, resident (a family
// account's relative) or password. A new password, role or scope ends the user's sessions at once
// (open screens close and must sign in again). The last administrator cannot be demoted, so the
// service is never left without someone who can run it. Every change is in the audit trail; a
// password never is, only that it was reset.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type, { type TSchema } from 'typebox';
import { IdParams, ROLES, User } from '../../protocol/api.ts';
import { E164 } from '../../protocol/areas.ts';
import { hashSecret } from '../security/passwords.ts';
import { appendAudit } from '../storage/alarms.ts';
import type { Db, Registry } from '../storage/registry.ts';
import type { RegistryEdits } from '../storage/registry-edits.ts';
import type { UsersTable } from '../storage/tables.ts';
import { badRequest, conflict, forbidden, notFound } from './errors.ts';
import { changes } from './registry-edits.ts';

// Null first: the API's Ajv coerces types, and with the string first a null would be taken as "".
const Nullable = <T extends TSchema>(t: T) => Type.Union([Type.Null(), t]);

export const UserPatch = Type.Object(
  {
    displayName: Type.Optional(Nullable(Type.String({ maxLength: 200 }))),
    role: Type.Optional(Type.Enum(ROLES)),
    /** null: every site (staff not bound to one). */
    siteId: Type.Optional(Nullable(Type.String({ maxLength: 64 }))),
    /** A family account's relative. */
    residentId: Type.Optional(Nullable(Type.String({ maxLength: 64 }))),
    /** A new password (a reset); the user's sessions end. */
    password: Type.Optional(Type.String({ minLength: 10, maxLength: 200 })),
    /** Their mobile number in E.164, for SMS when a push does not reach them; null: none. */
    phone: Type.Optional(Nullable(E164)),
    /** A centre operator's area (district, street or community); a change ends their sessions. */
    areaId: Type.Optional(Nullable(Type.String({ maxLength: 64 }))),
  },
  { additionalProperties: false },
);

export interface UserRouteOptions {
  db: Db;
  registry: Pick<Registry, 'getSite' | 'getResident'>;
  edits: RegistryEdits;
  now: () => string;
  /** Sessions ended by an edit (their token digests): their open screens are closed now. */
  onSessionsEnded: (digests: string[]) => void;
}

const asUser = (r: UsersTable): User => ({
  id: r.id,
  username: r.username,
  role: r.role,
  displayName: r.display_name,
  siteId: r.site_id,
  residentId: r.resident_id,
  phone: r.phone ?? null,
  areaId: r.area_id ?? null,
});

export const userRoutes: FastifyPluginAsyncTypebox<UserRouteOptions> = async (app, { db, registry, edits, now, onSessionsEnded }) => {
  app.addHook('onRequest', app.authenticate);

  app.patch(
    '/api/v1/users/:id',
    { schema: { tags: ['registry'], params: IdParams, body: UserPatch, response: { 200: User } } },
    async (req) => {
      if (!req.access.isAdmin) throw forbidden('administrators only');
      const { id } = req.params;
      const { password, ...b } = req.body;
      const current = await db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
      if (!current) throw notFound('user', id);
      const role = b.role ?? current.role;
      const residentId = b.residentId === undefined ? current.resident_id : b.residentId;
      if (role === 'family' && !residentId) throw badRequest('a family account needs residentId');
      const areaId = b.areaId === undefined ? (current.area_id ?? null) : b.areaId;
      if (role === 'centre_operator' && !areaId) throw badRequest('a centre operator needs areaId');
      if (b.areaId && !(await db.selectFrom('areas').select('id').where('id', '=', b.areaId).executeTakeFirst()))
        throw badRequest(`area ${b.areaId} does not exist`);
      if (b.siteId && !(await registry.getSite(b.siteId))) throw badRequest(`site ${b.siteId} does not exist`);
      if (b.residentId && !(await registry.getResident(b.residentId))) throw badRequest(`resident ${b.residentId} does not exist`);
      if (current.role === 'admin' && role !== 'admin') {
        const admins = await db
          .selectFrom('users')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('role', '=', 'admin')
          .executeTakeFirstOrThrow();
        if (Number(admins.n) <= 1) throw conflict('this is the last administrator: make another one first');
      }
      const row = await edits.user(id, { ...b, ...(password ? { passwordHash: await hashSecret(password) } : {}) });
      if (!row) throw notFound('user', id);
      const { password_hash: h0, ...before } = row.before;
      const { password_hash: h1, ...after } = row.after;
      const changed: Record<string, unknown> = changes(before, after);
      if (h0 !== h1) changed.password = 'reset';
      if (Object.keys(changed).length > 0) {
        await appendAudit(db, {
          at: now(),
          actor: req.access.user.username,
          action: 'user.updated',
          subject: id,
          detail: { changed, sessionsEnded: row.endedSessions.length },
        });
      }
      if (row.endedSessions.length > 0) onSessionsEnded(row.endedSessions);
      return asUser(row.after);
    },
  );
};

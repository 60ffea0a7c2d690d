// Edits to what an administrator registered (the PATCH routes): a site's name, kind and time zone;
// a resident's name, room, bed and settings; a device's gateway, resident, room and silence limit;
// a user's name, role, scope and password. Each returns the row before and after, so the route can
// write both to the audit trail; an unknown id returns undefined and changes nothing.
import type { Db } from './registry.ts';
import type { DevicesTable, ResidentsTable, SitesTable, UsersTable } from './tables.ts';

type Row<T> = { before: T; after: T };

export interface SiteEdit {
  name?: string;
  kind?: SitesTable['kind'];
  timezone?: string;
}
export interface ResidentEdit {
  name?: string;
  room?: string;
  bed?: string | null;
  /** Already merged with the current settings by the caller. */
  settings?: Record<string, unknown>;
}
export interface DeviceEdit {
  gatewayId?: string;
  residentId?: string | null;
  room?: string | null;
  supervisionSeconds?: number | null;
}
export interface UserEdit {
  displayName?: string | null;
  role?: UsersTable['role'];
  siteId?: string | null;
  residentId?: string | null;
  passwordHash?: string;
  /** E.164, for SMS (checked by the route). */
  phone?: string | null;
  /** A centre operator's area. */
  areaId?: string | null;
}

const defined = <T extends Record<string, unknown>>(o: T) =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;

export function createRegistryEdits(db: Db) {
  return {
    async site(id: string, e: SiteEdit): Promise<Row<SitesTable> | undefined> {
      return db.transaction().execute(async (tx) => {
        const before = await tx.selectFrom('sites').selectAll().where('id', '=', id).executeTakeFirst();
        if (!before) return undefined;
        const set = defined({ name: e.name, kind: e.kind, timezone: e.timezone });
        if (Object.keys(set).length > 0) await tx.updateTable('sites').set(set).where('id', '=', id).execute();
        return { before, after: { ...before, ...set } };
      });
    },

    /**
     * A resident moved to another room takes with them the devices whose room was theirs (a
     * device's room is the resident's unless set apart), so a device's technical alarm names the
     * room the person is in now. Returns the ids of the devices that moved.
     */
    async resident(id: string, e: ResidentEdit): Promise<(Row<ResidentsTable> & { devicesMoved: string[] }) | undefined> {
      return db.transaction().execute(async (tx) => {
        const before = await tx.selectFrom('residents').selectAll().where('id', '=', id).executeTakeFirst();
        if (!before) return undefined;
        const set = defined({
          name: e.name,
          room: e.room,
          bed: e.bed,
          settings: e.settings === undefined ? undefined : JSON.stringify(e.settings),
        });
        if (Object.keys(set).length > 0) await tx.updateTable('residents').set(set).where('id', '=', id).execute();
        let devicesMoved: string[] = [];
        if (e.room !== undefined && e.room !== before.room) {
          const devices = await tx
            .selectFrom('devices')
            .select('id')
            .where('resident_id', '=', id)
            .where('room', '=', before.room)
            .execute();
          devicesMoved = devices.map((d) => d.id);
          if (devicesMoved.length > 0) await tx.updateTable('devices').set({ room: e.room }).where('id', 'in', devicesMoved).execute();
        }
        return { before, after: { ...before, ...set }, devicesMoved };
      });
    },

    async device(id: string, e: DeviceEdit): Promise<Row<DevicesTable> | undefined> {
      return db.transaction().execute(async (tx) => {
        const before = await tx.selectFrom('devices').selectAll().where('id', '=', id).executeTakeFirst();
        if (!before) return undefined;
        const set = defined({
          gateway_id: e.gatewayId,
          resident_id: e.residentId,
          room: e.room,
          supervision_seconds: e.supervisionSeconds,
        });
        if (Object.keys(set).length > 0) await tx.updateTable('devices').set(set).where('id', '=', id).execute();
        return { before, after: { ...before, ...set } };
      });
    },

    /**
     * A changed password, role or scope ends the user's sessions: they sign in again and get what
     * the new settings allow, everywhere at once. Returns the ended sessions' token digests so open
     * screens can be closed now rather than at their next check.
     */
    async user(id: string, e: UserEdit): Promise<(Row<UsersTable> & { endedSessions: string[] }) | undefined> {
      return db.transaction().execute(async (tx) => {
        const before = await tx.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
        if (!before) return undefined;
        const set = defined({
          display_name: e.displayName,
          role: e.role,
          site_id: e.siteId,
          resident_id: e.residentId,
          password_hash: e.passwordHash,
          phone: e.phone,
          area_id: e.areaId,
        });
        if (Object.keys(set).length > 0) await tx.updateTable('users').set(set).where('id', '=', id).execute();
        const after = { ...before, ...set };
        const reach = (u: UsersTable) => [u.password_hash, u.role, u.site_id, u.resident_id, u.area_id ?? ''].join('\n');
        let endedSessions: string[] = [];
        if (reach(after) !== reach(before)) {
          const rows = await tx.selectFrom('sessions').select('token_hash').where('user_id', '=', id).execute();
          endedSessions = rows.map((r) => r.token_hash);
          await tx.deleteFrom('sessions').where('user_id', '=', id).execute();
        }
        return { before, after, endedSessions };
      });
    },
  };
}
export type RegistryEdits = ReturnType<typeof createRegistryEdits>;

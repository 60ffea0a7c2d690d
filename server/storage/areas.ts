// Homes in the community: the areas tree (district -> street -> community) above sites, a family
// bed's address, map position and grid worker, and each resident's family contacts.
import type { Db } from './registry.ts';
import type { AreasTable, ResidentContactsTable } from './tables.ts';

export const AREA_KINDS = ['district', 'street', 'community'] as const;
export type AreaKind = (typeof AREA_KINDS)[number];
/** A child is one step below its parent: a street in a district, a community in a street. */
export const CHILD_KIND: Record<AreaKind, AreaKind | null> = { district: 'street', street: 'community', community: null };
/** Areas in one tree walk (a district has tens of streets, each tens of communities). */
export const MAX_AREAS = 10_000;
export const MAX_CONTACTS = 10;

export interface Area {
  id: string;
  parentId: string | null;
  kind: AreaKind;
  name: string;
  createdAt: string;
}
export interface FamilyContact {
  name: string;
  relation: string;
  phone: string;
  userId: string | null;
}
/** Where a site is and who answers for it (all optional: a nursing home may have none). */
export interface SiteHome {
  areaId: string | null;
  address: string | null;
  lat: number | null;
  lon: number | null;
  gridWorkerId: string | null;
}

const area = (r: AreasTable): Area => ({ id: r.id, parentId: r.parent_id, kind: r.kind, name: r.name, createdAt: r.created_at });
const contact = (r: ResidentContactsTable): FamilyContact => ({ name: r.name, relation: r.relation, phone: r.phone, userId: r.user_id });

export function createAreaStore(db: Db) {
  /** The area and every area below it (ids), breadth first; bounded by MAX_AREAS. */
  async function subtree(rootId: string): Promise<string[]> {
    const seen = new Set<string>([rootId]);
    let level = [rootId];
    while (level.length > 0 && seen.size < MAX_AREAS) {
      const next: string[] = [];
      for (let i = 0; i < level.length; i += 500) {
        const rows = await db
          .selectFrom('areas')
          .select('id')
          .where('parent_id', 'in', level.slice(i, i + 500))
          .execute();
        for (const r of rows) {
          if (seen.has(r.id)) continue; // a cycle cannot be made through the API, but never loop on one
          seen.add(r.id);
          next.push(r.id);
        }
      }
      level = next;
    }
    return [...seen];
  }

  return {
    subtree,
    async create(a: Omit<Area, 'createdAt'>, now: string): Promise<Area> {
      const row: AreasTable = { id: a.id, parent_id: a.parentId, kind: a.kind, name: a.name, created_at: now };
      await db.insertInto('areas').values(row).execute();
      return area(row);
    },
    async get(id: string): Promise<Area | undefined> {
      const r = await db.selectFrom('areas').selectAll().where('id', '=', id).executeTakeFirst();
      return r && area(r);
    },
    async list(ids?: string[]): Promise<Area[]> {
      if (ids && ids.length === 0) return [];
      let q = db.selectFrom('areas').selectAll().orderBy('kind').orderBy('name').limit(MAX_AREAS);
      if (ids) q = q.where('id', 'in', ids.slice(0, MAX_AREAS));
      return (await q.execute()).map(area);
    },
    async update(id: string, set: { name?: string }): Promise<void> {
      if (set.name === undefined) return;
      await db.updateTable('areas').set({ name: set.name }).where('id', '=', id).execute();
    },
    /** The ids of the sites placed in any of these areas. */
    async sitesIn(areaIds: string[]): Promise<string[]> {
      const out: string[] = [];
      for (let i = 0; i < areaIds.length; i += 500) {
        const rows = await db
          .selectFrom('sites')
          .select('id')
          .where('area_id', 'in', areaIds.slice(i, i + 500))
          .execute();
        for (const r of rows) out.push(r.id);
      }
      return out;
    },
    async sitesOfGridWorker(userId: string): Promise<string[]> {
      return (await db.selectFrom('sites').select('id').where('grid_worker_id', '=', userId).execute()).map((r) => r.id);
    },
    async siteHome(siteId: string): Promise<SiteHome | undefined> {
      const r = await db
        .selectFrom('sites')
        .select(['area_id', 'address', 'lat', 'lon', 'grid_worker_id'])
        .where('id', '=', siteId)
        .executeTakeFirst();
      return (
        r && {
          areaId: r.area_id ?? null,
          address: r.address ?? null,
          lat: r.lat === null || r.lat === undefined ? null : Number(r.lat),
          lon: r.lon === null || r.lon === undefined ? null : Number(r.lon),
          gridWorkerId: r.grid_worker_id ?? null,
        }
      );
    },
    /** Sets the given fields of a site's place (undefined: unchanged, null: cleared). */
    async setSiteHome(siteId: string, set: Partial<SiteHome>): Promise<void> {
      const row: Record<string, string | number | null> = {};
      if (set.areaId !== undefined) row.area_id = set.areaId;
      if (set.address !== undefined) row.address = set.address;
      if (set.lat !== undefined) row.lat = set.lat;
      if (set.lon !== undefined) row.lon = set.lon;
      if (set.gridWorkerId !== undefined) row.grid_worker_id = set.gridWorkerId;
      if (Object.keys(row).length === 0) return;
      await db.updateTable('sites').set(row).where('id', '=', siteId).execute();
    },
    async contacts(residentId: string): Promise<FamilyContact[]> {
      return (await db.selectFrom('resident_contacts').selectAll().where('resident_id', '=', residentId).orderBy('position').execute()).map(
        contact,
      );
    },
    /** Replaces a resident's family contacts (in calling order) in one transaction. */
    async setContacts(residentId: string, list: FamilyContact[]): Promise<void> {
      await db.transaction().execute(async (tx) => {
        await tx.deleteFrom('resident_contacts').where('resident_id', '=', residentId).execute();
        if (list.length === 0) return;
        await tx
          .insertInto('resident_contacts')
          .values(
            list.map((c, position) => ({
              resident_id: residentId,
              position,
              name: c.name,
              relation: c.relation,
              phone: c.phone,
              user_id: c.userId,
            })),
          )
          .execute();
      });
    },
  };
}
export type AreaStore = ReturnType<typeof createAreaStore>;

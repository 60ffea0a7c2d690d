// Sites, residents, gateways and devices: what an administrator registers.
import type { Kysely } from 'kysely';
import { compiledOnce } from './insert-cache.ts';
import type { Database, DevicesTable, GatewaysTable, ResidentsTable, SitesTable } from './tables.ts';

export type Db = Kysely<Database>;

export interface Site {
  id: string;
  name: string;
  kind: SitesTable['kind'];
  timezone: string;
  createdAt: string;
  /** Homes in the community (storage/areas.ts sets them). */
  areaId?: string | null;
  address?: string | null;
  lat?: number | null;
  lon?: number | null;
  gridWorkerId?: string | null;
}
export interface Resident {
  id: string;
  siteId: string;
  name: string;
  room: string;
  bed: string | null;
  settings: Record<string, unknown>;
  createdAt: string;
}
export interface Gateway {
  id: string;
  siteId: string;
  name: string;
  state: string;
  lastSeen: string | null;
  createdAt: string;
}
export interface Device {
  id: string;
  gatewayId: string;
  kind: string;
  residentId: string | null;
  room: string | null;
  lastSeen: string | null;
  battery: number | null;
  createdAt: string;
  offlineSince: string | null;
  supervisionSeconds: number | null;
}

const site = (r: SitesTable): Site => ({
  id: r.id,
  name: r.name,
  kind: r.kind,
  timezone: r.timezone,
  createdAt: r.created_at,
  areaId: r.area_id ?? null,
  address: r.address ?? null,
  lat: r.lat === null || r.lat === undefined ? null : Number(r.lat),
  lon: r.lon === null || r.lon === undefined ? null : Number(r.lon),
  gridWorkerId: r.grid_worker_id ?? null,
});
const resident = (r: ResidentsTable): Resident => ({
  id: r.id,
  siteId: r.site_id,
  name: r.name,
  room: r.room,
  bed: r.bed,
  settings: JSON.parse(r.settings) as Record<string, unknown>,
  createdAt: r.created_at,
});
const gateway = (r: GatewaysTable): Gateway => ({
  id: r.id,
  siteId: r.site_id,
  name: r.name,
  state: r.state,
  lastSeen: r.last_seen,
  createdAt: r.created_at,
});
const device = (r: DevicesTable): Device => ({
  id: r.id,
  gatewayId: r.gateway_id,
  kind: r.kind,
  residentId: r.resident_id,
  room: r.room,
  lastSeen: r.last_seen,
  battery: r.battery,
  createdAt: r.created_at,
  offlineSince: r.offline_since,
  supervisionSeconds: r.supervision_seconds,
});

/** Lookups by id, compiled once (the ingest path's cache misses: one per event from a new device). */
const byId = {
  sites: compiledOnce((db: Db, p: { id: string }) => db.selectFrom('sites').selectAll().where('id', '=', p.id)),
  residents: compiledOnce((db: Db, p: { id: string }) => db.selectFrom('residents').selectAll().where('id', '=', p.id)),
  devices: compiledOnce((db: Db, p: { id: string }) => db.selectFrom('devices').selectAll().where('id', '=', p.id)),
};

export function createRegistry(db: Db) {
  return {
    async createSite(s: Omit<Site, 'createdAt'>, now: string): Promise<Site> {
      const row: SitesTable = { id: s.id, name: s.name, kind: s.kind, timezone: s.timezone, created_at: now };
      await db.insertInto('sites').values(row).execute();
      return site(row);
    },
    async listSites(): Promise<Site[]> {
      return (await db.selectFrom('sites').selectAll().orderBy('created_at').execute()).map(site);
    },
    async getSite(id: string): Promise<Site | undefined> {
      const r = (await byId.sites(db, { id })).rows[0];
      return r && site(r);
    },

    async createResident(r: Omit<Resident, 'createdAt'>, now: string): Promise<Resident> {
      const row: ResidentsTable = {
        id: r.id,
        site_id: r.siteId,
        name: r.name,
        room: r.room,
        bed: r.bed,
        settings: JSON.stringify(r.settings),
        created_at: now,
      };
      await db.insertInto('residents').values(row).execute();
      return resident(row);
    },
    async listResidents(siteId?: string): Promise<Resident[]> {
      let q = db.selectFrom('residents').selectAll().orderBy('room').orderBy('name');
      if (siteId) q = q.where('site_id', '=', siteId);
      return (await q.execute()).map(resident);
    },
    async getResident(id: string): Promise<Resident | undefined> {
      const r = (await byId.residents(db, { id })).rows[0];
      return r && resident(r);
    },
    async updateResidentSettings(id: string, settings: Record<string, unknown>): Promise<void> {
      await db
        .updateTable('residents')
        .set({ settings: JSON.stringify(settings) })
        .where('id', '=', id)
        .execute();
    },

    async createGateway(g: { id: string; siteId: string; name: string; secretHash: string }, now: string) {
      const row: GatewaysTable = {
        id: g.id,
        site_id: g.siteId,
        name: g.name,
        secret_hash: g.secretHash,
        state: 'never_connected',
        last_seen: null,
        last_seq: null,
        created_at: now,
        offline_since: null,
      };
      await db.insertInto('gateways').values(row).execute();
      return gateway(row);
    },
    async listGateways(siteId?: string): Promise<Gateway[]> {
      let q = db.selectFrom('gateways').selectAll().orderBy('created_at');
      if (siteId) q = q.where('site_id', '=', siteId);
      return (await q.execute()).map(gateway);
    },
    async getGateway(id: string): Promise<Gateway | undefined> {
      const r = await db.selectFrom('gateways').selectAll().where('id', '=', id).executeTakeFirst();
      return r && gateway(r);
    },
    async getGatewaySecretHash(id: string): Promise<{ siteId: string; secretHash: string } | undefined> {
      const r = await db.selectFrom('gateways').select(['site_id', 'secret_hash']).where('id', '=', id).executeTakeFirst();
      return r && { siteId: r.site_id, secretHash: r.secret_hash };
    },
    async setGatewaySecretHash(id: string, secretHash: string, state?: string): Promise<void> {
      await db
        .updateTable('gateways')
        .set(state ? { secret_hash: secretHash, state } : { secret_hash: secretHash })
        .where('id', '=', id)
        .execute();
    },
    async setGatewayState(id: string, state: string, lastSeen: string): Promise<void> {
      await db.updateTable('gateways').set({ state, last_seen: lastSeen }).where('id', '=', id).execute();
    },

    async createDevice(
      d: Omit<Device, 'createdAt' | 'lastSeen' | 'battery' | 'offlineSince' | 'supervisionSeconds'> & {
        supervisionSeconds?: number | null;
      },
      now: string,
    ): Promise<Device> {
      const row: DevicesTable = {
        id: d.id,
        gateway_id: d.gatewayId,
        kind: d.kind,
        resident_id: d.residentId,
        room: d.room,
        last_seen: null,
        battery: null,
        created_at: now,
        offline_since: null,
        supervision_seconds: d.supervisionSeconds ?? null,
      };
      await db.insertInto('devices').values(row).execute();
      return device(row);
    },
    async listDevices(filter: { gatewayId?: string; residentId?: string } = {}): Promise<Device[]> {
      let q = db.selectFrom('devices').selectAll().orderBy('id');
      if (filter.gatewayId) q = q.where('gateway_id', '=', filter.gatewayId);
      if (filter.residentId) q = q.where('resident_id', '=', filter.residentId);
      return (await q.execute()).map(device);
    },
    async getDevice(id: string): Promise<Device | undefined> {
      const r = (await byId.devices(db, { id })).rows[0];
      return r && device(r);
    },
    async touchDevice(id: string, lastSeen: string, battery?: number): Promise<void> {
      await db
        .updateTable('devices')
        .set(battery === undefined ? { last_seen: lastSeen } : { last_seen: lastSeen, battery })
        .where('id', '=', id)
        .execute();
    },
  };
}
export type Registry = ReturnType<typeof createRegistry>;

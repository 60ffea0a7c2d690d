// Who may see what, and do what. Roles:
// - admin: everything.
// - nurse_lead, caregiver: their site, or every site when not bound to one.
// - centre_operator: every site placed in their area and the areas below it (none without an area).
// - grid_worker: the sites they are the grid worker of (sites.grid_worker_id).
// - responder: the alarms a `user` contact naming them (user id or username) was notified of.
// - family: their relative (users.resident_id) and any resident whose family contacts name their login.
// What each may do with an alarm they can see: see `Access` below and docs/decisions.md.
import type { Alarm } from '../../protocol/index.ts';
import type { AlarmScope } from '../storage/alarms.ts';
import type { AreaStore } from '../storage/areas.ts';
import type { Db } from '../storage/registry.ts';
import type { User } from '../storage/users.ts';

export interface Access {
  user: User;
  isAdmin: boolean;
  /** Every site (an administrator, or nurse lead or caregiver bound to no site). */
  allSites: boolean;
  /** Staff work on what they can see: snooze, device tests, receipts for any contact's notification. */
  canAct: boolean;
  /** Acknowledge (accept) and report being on site: everyone, on the alarms they can see. */
  canRespond: boolean;
  /** Resolve with an outcome: not a family account (the outcome is the care record's). */
  canResolve: boolean;
  canSeeSite(siteId: string | null): boolean;
  /** An area of the tree: an administrator any, a centre operator theirs and those below it. */
  canSeeArea(areaId: string): boolean;
  canSeeResident(r: { id: string; siteId: string }): boolean;
  canSeeAlarm(a: Alarm): boolean;
  /** The same as `canSeeAlarm`, as a query filter: lists and snapshots limit after it, never before. */
  alarmScope: AlarmScope;
}

/** What a role's scope is made of, read from the database when the caller is authenticated. */
export interface ScopeFacts {
  /** centre_operator: their area and every area below it. */
  areaIds?: string[];
  /** centre_operator, grid_worker: the sites they may see. */
  siteIds?: ReadonlySet<string>;
  /** family: the residents they may see. */
  residentIds?: ReadonlySet<string>;
  /** responder: the alarms escalated to them (recent ones; see RESPONDER_WINDOW_DAYS). */
  alarmIds?: ReadonlySet<string>;
}

/** A responder's alarms are those notified to them in this many days (single-alarm reads and the feed). */
export const RESPONDER_WINDOW_DAYS = 30;
/** Bounds on what one authentication reads. */
const MAX_RESPONDER_ALARMS = 5_000;
const MAX_FAMILY_RESIDENTS = 100;

export function accessFor(user: User, facts: ScopeFacts = {}): Access {
  const isAdmin = user.role === 'admin';
  const none = new Set<string>();
  const siteStaff = user.role === 'nurse_lead' || user.role === 'caregiver';
  const allSites = isAdmin || (siteStaff && user.siteId === null);
  const areas = new Set(facts.areaIds ?? []);
  const base = { user, isAdmin, allSites, canRespond: true, canSeeArea: (id: string) => isAdmin || areas.has(id) };

  if (user.role === 'family') {
    const residents = new Set(facts.residentIds ?? []);
    if (user.residentId) residents.add(user.residentId);
    const ids = [...residents];
    return {
      ...base,
      canAct: false,
      canResolve: false,
      canSeeSite: () => false,
      canSeeResident: (r) => residents.has(r.id),
      canSeeAlarm: (a) => a.residentId !== null && residents.has(a.residentId),
      alarmScope:
        ids.length === 0
          ? { kind: 'none' }
          : ids.length === 1
            ? { kind: 'resident', residentId: ids[0] as string }
            : { kind: 'residents', residentIds: ids },
    };
  }
  if (user.role === 'responder') {
    const alarms = facts.alarmIds ?? none;
    return {
      ...base,
      canAct: false,
      canResolve: true,
      canSeeSite: () => false,
      canSeeResident: () => false,
      canSeeAlarm: (a) => alarms.has(a.id),
      alarmScope: { kind: 'responder', targets: [user.id, user.username] },
    };
  }
  if (user.role === 'centre_operator' || user.role === 'grid_worker') {
    const sites = facts.siteIds ?? none;
    const canSeeSite = (siteId: string | null) => siteId !== null && sites.has(siteId);
    const areaIds = facts.areaIds ?? [];
    return {
      ...base,
      canAct: true,
      canResolve: true,
      canSeeSite,
      canSeeResident: (r) => canSeeSite(r.siteId),
      canSeeAlarm: (a) => canSeeSite(a.siteId),
      alarmScope:
        user.role === 'grid_worker'
          ? { kind: 'grid_worker', userId: user.id }
          : areaIds.length > 0
            ? { kind: 'areas', areaIds }
            : { kind: 'none' },
    };
  }
  // admin, nurse_lead, caregiver (an unknown role is refused everything but what it can do as a site's staff)
  const canSeeSite = (siteId: string | null) => allSites || (siteStaff && user.siteId === siteId);
  return {
    ...base,
    canAct: isAdmin || siteStaff,
    canRespond: isAdmin || siteStaff,
    canResolve: isAdmin || siteStaff,
    canSeeSite,
    canSeeResident: (r) => canSeeSite(r.siteId),
    canSeeAlarm: (a) => canSeeSite(a.siteId),
    alarmScope: allSites ? { kind: 'all' } : siteStaff && user.siteId ? { kind: 'site', siteId: user.siteId } : { kind: 'none' },
  };
}

/** Reads what `user`'s role scope is made of (nothing for most roles) and builds their access. */
export async function loadAccess(deps: { db: Db; areas: AreaStore; now: () => string }, user: User): Promise<Access> {
  const facts: ScopeFacts = {};
  if (user.role === 'centre_operator' && user.areaId) {
    facts.areaIds = await deps.areas.subtree(user.areaId);
    facts.siteIds = new Set(await deps.areas.sitesIn(facts.areaIds));
  } else if (user.role === 'grid_worker') {
    facts.siteIds = new Set(await deps.areas.sitesOfGridWorker(user.id));
  } else if (user.role === 'family') {
    const rows = await deps.db
      .selectFrom('resident_contacts')
      .select('resident_id')
      .where('user_id', '=', user.id)
      .limit(MAX_FAMILY_RESIDENTS)
      .execute();
    facts.residentIds = new Set(rows.map((r) => r.resident_id));
  } else if (user.role === 'responder') {
    const since = new Date(Date.parse(deps.now()) - RESPONDER_WINDOW_DAYS * 86_400_000).toISOString();
    const rows = await deps.db
      .selectFrom('notifications')
      .select('alarm_id')
      .where('channel', '=', 'user')
      .where('target', 'in', [user.id, user.username])
      .where('state', '<>', 'suppressed')
      .where('created_at', '>=', since)
      .orderBy('created_at', 'desc')
      .limit(MAX_RESPONDER_ALARMS)
      .execute();
    facts.alarmIds = new Set(rows.map((r) => r.alarm_id));
  }
  return accessFor(user, facts);
}

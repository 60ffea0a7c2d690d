// Who may see what. Roles: admin (everything), nurse_lead and caregiver (their site, or all sites
// when not bound to one), family (their own relative only).
import type { Alarm } from '../../protocol/index.ts';
import type { AlarmScope } from '../storage/alarms.ts';
import type { User } from '../storage/users.ts';

export interface Access {
  user: User;
  isAdmin: boolean;
  canAct: boolean;
  canSeeSite(siteId: string | null): boolean;
  canSeeResident(r: { id: string; siteId: string }): boolean;
  canSeeAlarm(a: Alarm): boolean;
  /** The same as `canSeeAlarm`, as a query filter: lists and snapshots limit after it, never before. */
  alarmScope: AlarmScope;
}

export function accessFor(user: User): Access {
  const isAdmin = user.role === 'admin';
  const isFamily = user.role === 'family';
  const canSeeSite = (siteId: string | null) => isAdmin || (!isFamily && (user.siteId === null || user.siteId === siteId));
  return {
    user,
    isAdmin,
    canAct: !isFamily,
    canSeeSite,
    canSeeResident: (r) => (isFamily ? user.residentId === r.id : canSeeSite(r.siteId)),
    canSeeAlarm: (a) => (isFamily ? a.residentId !== null && a.residentId === user.residentId : canSeeSite(a.siteId)),
    alarmScope: isFamily
      ? user.residentId
        ? { kind: 'resident', residentId: user.residentId }
        : { kind: 'none' }
      : isAdmin || user.siteId === null
        ? { kind: 'all' }
        : { kind: 'site', siteId: user.siteId },
  };
}

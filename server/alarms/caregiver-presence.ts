// A caregiver's presence reported at a resident's side (a staff tag, a presence button pressed by
// staff) asks the engine to mark that resident's open alarms "on site", which pauses escalation.
// Pure: the caller looks up the resident and applies the request.
import type { DeviceEvent } from '../../protocol/index.ts';

export interface OnSiteRequest {
  kind: 'on_site';
  residentId: string;
  /** Who is there: the caregiver's tag id, or the presence device (at most 64 characters). */
  by: string;
}

export function evaluateCaregiverPresence(event: DeviceEvent, residentId: string | null | undefined): OnSiteRequest | null {
  if (event.type !== 'presence' || !residentId) return null;
  const data = event.data as { caregiver?: unknown; staff?: unknown } | undefined;
  if (typeof data?.caregiver === 'string') return { kind: 'on_site', residentId, by: data.caregiver.slice(0, 64) };
  if (data?.staff === true) return { kind: 'on_site', residentId, by: `presence:${event.device}`.slice(0, 64) };
  return null;
}

// A gateway's own faults, from its status (`faults`): each known fault is a technical alarm on
// the gateway itself (`device_fault`, the gateway as device), raised when first reported and
// cleared by the system when a status no longer lists it. Today: `outbox_unwritable` (its disk is
// full, so what it accepts is not durable).
import { OUTBOX_UNWRITABLE } from '../../protocol/index.ts';
import type { AlarmStore } from '../storage/alarms.ts';
import type { Db } from '../storage/registry.ts';
import { type AlarmEngine, type AlarmSubject, causeKey } from './engine.ts';

/** Faults that raise an alarm; a fault the server does not know is ignored, never an error. */
const ALARMED: readonly string[] = [OUTBOX_UNWRITABLE];

/**
 * Applies one status's `faults` (absent: a gateway too old to say, nothing changes). Returns the
 * ids of alarms that changed. Only an indexed read when nothing changed, so heartbeats stay cheap.
 */
export async function reportGatewayFaults(
  deps: { db: Db; engine: AlarmEngine; alarms: AlarmStore },
  gateway: { siteId: string; gatewayId: string },
  faults: readonly string[] | undefined,
  at: string,
): Promise<string[]> {
  if (faults === undefined) return [];
  const subject: AlarmSubject = {
    siteId: gateway.siteId,
    gatewayId: gateway.gatewayId,
    deviceId: gateway.gatewayId,
    residentId: null,
    room: null,
    unregistered: false,
    at,
  };
  const open = await deps.alarms.findOpenByCause(deps.db, causeKey('device_fault', subject));
  const reason = ALARMED.find((f) => faults.includes(f));
  if (reason && open) return [];
  if (!reason && !open) return [];
  return deps.db
    .transaction()
    .execute((tx) =>
      deps.engine.apply(
        tx,
        reason
          ? [{ kind: 'raise', type: 'device_fault', priority: 'low', detail: { reason } }]
          : [{ kind: 'clear', type: 'device_fault', onlyIfUnacknowledged: false, detail: { note: 'gateway reports no fault' } }],
        subject,
        reason ? `gateway:${gateway.gatewayId}` : 'system',
      ),
    );
}

// The event log. The event id is the idempotency key within its gateway (two gateways may use the
// same id): `insertEventIfNew` says whether this delivery is the first.
import type { Insertable } from 'kysely';
import type { DeviceEvent } from '../../protocol/index.ts';
import { cachedInsert } from './insert-cache.ts';
import type { Db } from './registry.ts';
import type { Database } from './tables.ts';

const insertEvent = cachedInsert((db, row: Insertable<Database['events']>) =>
  db
    .insertInto('events')
    .values(row)
    .onConflict((oc) => oc.columns(['gateway_id', 'id']).doNothing()),
);

export async function insertEventIfNew(
  tx: Db,
  e: DeviceEvent,
  where: { siteId: string; gatewayId: string },
  receivedAt: string,
): Promise<boolean> {
  const result = await insertEvent(tx, {
    id: e.id,
    site_id: where.siteId,
    gateway_id: where.gatewayId,
    seq: e.seq,
    ts: e.ts,
    device_id: e.device,
    type: e.type,
    data: JSON.stringify(e.data ?? {}),
    received_at: receivedAt,
  });
  return Number(result.numAffectedRows ?? 0) > 0;
}

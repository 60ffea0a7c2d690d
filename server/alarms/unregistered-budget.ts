// The per-gateway budget for alarms from devices nobody registered. Each unknown device still
// raises its own flagged alarm (config gaps never hide an alarm), up to `budget` distinct devices
// with open alarms per gateway. Past that, a gateway inventing device ids (broken or hostile)
// would bury every real alarm on the screens and in the escalation queue, so its further unknown
// devices feed one summarising technical alarm per gateway, `unregistered_devices`, whose count
// rises and whose priority is the highest asked for (a made-up fall still makes it high). The
// events themselves are stored as always.
import { sql } from 'kysely';
import type { Priority } from '../../protocol/index.ts';
import type { Db } from '../storage/registry.ts';
import type { AlarmSubject } from './engine.ts';
import { type AlarmRequest, higherPriority } from './rules.ts';

export const DEFAULT_UNREGISTERED_BUDGET = 20;

/**
 * Whether `deviceId`, an unknown device of `gatewayId`, is past the gateway's budget. Both reads
 * walk the partial index alarms_open_unregistered (literal predicates, so SQLite can use it): one
 * seek for the device itself, then at most `budget` distinct devices, however many open alarms the
 * gateway has (counting them all cost 31 % of the main thread at 1,000 alarms/s in the bench).
 */
export async function overUnregisteredBudget(tx: Db, gatewayId: string, deviceId: string, budget: number): Promise<boolean> {
  const open = sql<boolean>`state <> 'resolved' and unregistered = 1`;
  // A device already holding an open alarm keeps counting repeats on it.
  const mine = await tx
    .selectFrom('alarms')
    .select(sql<number>`1`.as('one'))
    .where('gateway_id', '=', gatewayId)
    .where('device_id', '=', deviceId)
    .where(open)
    .limit(1)
    .executeTakeFirst();
  if (mine) return false;
  const { rows } = await sql<{ devices: number | string }>`select count(*) as devices from (
      select distinct device_id from alarms
      where gateway_id = ${gatewayId} and state <> 'resolved' and unregistered = 1 and device_id is not null
      limit ${budget}) as d`.execute(tx);
  return Number(rows[0]?.devices ?? 0) >= budget;
}

/** The requests of an unknown device past the budget, folded into the gateway's summary alarm. */
export function summarise(
  requests: AlarmRequest[],
  subject: AlarmSubject,
  event: { device: string; type: string },
  budget: number,
): { requests: AlarmRequest[]; subject: AlarmSubject } {
  let priority: Priority | null = null;
  for (const r of requests) if (r.kind === 'raise') priority = priority ? higherPriority(priority, r.priority) : r.priority;
  if (!priority) return { requests: [], subject };
  return {
    requests: [
      {
        kind: 'raise',
        type: 'unregistered_devices',
        priority,
        detail: {
          budget,
          deviceId: event.device,
          eventType: event.type,
          asked: requests.flatMap((r) => (r.kind === 'raise' ? [r.type] : [])),
        },
      },
    ],
    subject: { ...subject, deviceId: null, residentId: null, room: null, unregistered: true, test: false },
  };
}

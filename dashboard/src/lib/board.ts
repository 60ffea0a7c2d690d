// Which alarms the board shows and in what order: active before acknowledged, then priority
// (high, medium, low), then age with the oldest first, so the longest-waiting urgent call is on top.
import type { Alarm, AlarmState, Priority } from '../../../protocol/schemas.ts';

const STATE_RANK: Record<AlarmState, number> = { active: 0, acknowledged: 1, resolved: 2 };
const PRIORITY_RANK: Record<Priority, number> = { high: 0, medium: 1, low: 2 };

export function compareAlarms(a: Alarm, b: Alarm): number {
  return (
    STATE_RANK[a.state] - STATE_RANK[b.state] ||
    PRIORITY_RANK[a.priority] - PRIORITY_RANK[b.priority] ||
    Date.parse(a.raisedAt) - Date.parse(b.raisedAt) ||
    (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
  );
}

/** The open alarms in board order (resolved ones leave the board). */
export function boardOrder(alarms: Iterable<Alarm>): Alarm[] {
  return [...alarms].filter((a) => a.state !== 'resolved').sort(compareAlarms);
}

/** Alarms that should keep the alarm sound going: active ones nobody has acknowledged yet. */
export function needsAttention(alarms: Iterable<Alarm>): boolean {
  for (const a of alarms) if (a.state === 'active') return true;
  return false;
}

/** The most urgent open alarm of one resident, for overview tiles. */
export function mostUrgentFor(alarms: Iterable<Alarm>, residentId: string): Alarm | undefined {
  return boardOrder([...alarms].filter((a) => a.residentId === residentId))[0];
}

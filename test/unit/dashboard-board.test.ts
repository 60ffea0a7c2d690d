// Board order: active before acknowledged, then high/medium/low, then oldest first; resolved leave.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { boardOrder, compareAlarms, mostUrgentFor, needsAttention } from '../../dashboard/src/lib/board.ts';
import type { Alarm } from '../../protocol/schemas.ts';
import { alarm } from './dashboard-fixtures.ts';

const at = (min: number) => new Date(Date.UTC(2026, 0, 1, 8, min)).toISOString();

describe('dashboard board order', () => {
  it('puts active before acknowledged, then high, medium, low, then the oldest first', () => {
    const alarms = [
      alarm({ id: 'ack-high', state: 'acknowledged', priority: 'high', raisedAt: at(0) }),
      alarm({ id: 'low-old', priority: 'low', raisedAt: at(1) }),
      alarm({ id: 'high-new', priority: 'high', raisedAt: at(30) }),
      alarm({ id: 'medium', priority: 'medium', raisedAt: at(5) }),
      alarm({ id: 'high-old', priority: 'high', raisedAt: at(10) }),
      alarm({ id: 'ack-low', state: 'acknowledged', priority: 'low', raisedAt: at(0) }),
    ];
    expect(boardOrder(alarms).map((a) => a.id)).toEqual(['high-old', 'high-new', 'medium', 'low-old', 'ack-high', 'ack-low']);
  });

  it('leaves resolved alarms off the board', () => {
    expect(boardOrder([alarm({ id: 'a', state: 'resolved' }), alarm({ id: 'b' })]).map((a) => a.id)).toEqual(['b']);
  });

  it('an acknowledged high alarm ranks below an active low one', () => {
    const ordered = boardOrder([alarm({ id: 'h', state: 'acknowledged' }), alarm({ id: 'l', priority: 'low' })]);
    expect(ordered.map((a) => a.id)).toEqual(['l', 'h']);
  });

  it('is a total order: any shuffle of the same alarms sorts the same way', () => {
    const arb = fc.array(
      fc.record({
        id: fc.uuid(),
        state: fc.constantFrom('active' as const, 'acknowledged' as const),
        priority: fc.constantFrom('high' as const, 'medium' as const, 'low' as const),
        minute: fc.integer({ min: 0, max: 59 }),
      }),
      { maxLength: 30 },
    );
    fc.assert(
      fc.property(arb, (rows) => {
        const alarms: Alarm[] = rows.map((r) => alarm({ id: r.id, state: r.state, priority: r.priority, raisedAt: at(r.minute) }));
        const a = boardOrder(alarms).map((x) => x.id);
        const b = boardOrder([...alarms].reverse()).map((x) => x.id);
        expect(a).toEqual(b);
        const sorted = boardOrder(alarms);
        for (let i = 1; i < sorted.length; i++) expect(compareAlarms(sorted[i - 1]!, sorted[i]!)).toBeLessThanOrEqual(0);
      }),
    );
  });

  it('keeps sounding only while an alarm is active and unacknowledged', () => {
    expect(needsAttention([alarm({ id: 'a', state: 'acknowledged' })])).toBe(false);
    expect(needsAttention([alarm({ id: 'a', state: 'acknowledged' }), alarm({ id: 'b', priority: 'low' })])).toBe(true);
    expect(needsAttention([])).toBe(false);
  });

  it("picks a resident's most urgent open alarm for the overview tile", () => {
    const alarms = [
      alarm({ id: 'other', residentId: 'res-2' }),
      alarm({ id: 'low', priority: 'low', raisedAt: at(0) }),
      alarm({ id: 'fall', type: 'fall', priority: 'high', raisedAt: at(20) }),
    ];
    expect(mostUrgentFor(alarms, 'res-1')?.id).toBe('fall');
    expect(mostUrgentFor(alarms, 'res-9')).toBeUndefined();
  });
});

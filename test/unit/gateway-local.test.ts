// Edge rules and the local fallback controller, on a fake clock.
import { describe, expect, it } from 'vitest';
import { createFallback, type LocalAlarm, localPriority } from '../../gateway/local/fallback.ts';
import { createEdgeRules } from '../../gateway/rules/edge-rules.ts';
import type { EventType } from '../../protocol/index.ts';
import { FakeClock } from '../helpers/fake-clock.ts';

const rules = { nightWindow: { start: '22:00', end: '06:00' }, timezone: 'UTC', bedExitReturnMinutes: 10, fallConfirmSeconds: 30 };
const NIGHT = Date.parse('2026-11-23T23:00:00.000Z');
const DAY = Date.parse('2026-11-23T14:00:00.000Z');

function edge(start = NIGHT) {
  const clock = new FakeClock(start);
  const emitted: Array<{ device: string; type: EventType; data?: Record<string, unknown> }> = [];
  const r = createEdgeRules(rules, clock, (e) => emitted.push(e));
  return { clock, emitted, r };
}

describe('edge rules', () => {
  it('a night bed exit with no return in 10 minutes is raised again as "no return"', () => {
    const { clock, emitted, r } = edge();
    r.onEvent({ device: 'bed-1', type: 'bed_exit' });
    clock.advance(9 * 60_000);
    expect(emitted).toEqual([]);
    clock.advance(61_000);
    expect(emitted).toEqual([{ device: 'bed-1', type: 'bed_exit', data: { noReturnMinutes: 10 } }]);
  });
  it('a bed return in time cancels it; a daytime exit starts nothing', () => {
    const night = edge();
    night.r.onEvent({ device: 'bed-1', type: 'bed_exit' });
    night.clock.advance(5 * 60_000);
    night.r.onEvent({ device: 'bed-1', type: 'bed_return' });
    night.clock.advance(60 * 60_000);
    expect(night.emitted).toEqual([]);
    const day = edge(DAY);
    day.r.onEvent({ device: 'bed-1', type: 'bed_exit' });
    day.clock.advance(60 * 60_000);
    expect(day.emitted).toEqual([]);
  });
  it('a fall with no movement afterwards is reported confirmed; movement cancels it', () => {
    const still = edge();
    still.r.onEvent({ device: 'radar-1', type: 'fall' });
    still.r.onMotion('radar-1', false);
    still.clock.advance(31_000);
    expect(still.emitted).toEqual([{ device: 'radar-1', type: 'fall', data: { confirmed: true, stillForSeconds: 30 } }]);
    const moved = edge();
    moved.r.onEvent({ device: 'radar-1', type: 'fall' });
    moved.r.onMotion('radar-1', true);
    moved.clock.advance(31_000);
    expect(moved.emitted).toEqual([]);
  });
});

describe('local fallback', () => {
  function fallback() {
    const clock = new FakeClock(NIGHT);
    let shown: LocalAlarm[] = [];
    const f = createFallback({ afterSeconds: 60, maxAlarms: 100 }, rules, clock, (a) => {
      shown = a;
    });
    return { clock, f, shown: () => shown };
  }

  it('raises nothing while the link is up, and only after it has been down for the set time', () => {
    const { clock, f, shown } = fallback();
    f.uplink(true);
    f.onEvent({ device: 'btn-1', type: 'call' });
    expect(shown()).toEqual([]);
    f.uplink(false);
    f.onEvent({ device: 'btn-2', type: 'call' });
    clock.advance(59_000);
    expect(shown()).toEqual([]);
    clock.advance(2_000);
    expect(shown().map((a) => a.device)).toEqual(['btn-2']);
    f.onEvent({ device: 'radar-1', type: 'fall' });
    expect(shown().map((a) => `${a.device}:${a.priority}`)).toEqual(['radar-1:high', 'btn-2:high']);
  });

  it('stays until acknowledged locally or by the server, even after the link is back', () => {
    const { clock, f, shown } = fallback();
    f.uplink(false);
    clock.advance(61_000);
    f.onEvent({ device: 'btn-1', type: 'call' });
    f.onEvent({ device: 'btn-2', type: 'call' });
    f.uplink(true);
    expect(shown()).toHaveLength(2);
    const first = shown().find((a) => a.device === 'btn-1') as LocalAlarm;
    expect(f.acknowledge(first.id)).toBe(true);
    f.serverAcknowledged('btn-2');
    expect(shown()).toEqual([]);
  });

  it('judges which events are worth a local alarm', () => {
    expect(localPriority({ type: 'call' }, rules, DAY)).toBe('high');
    expect(localPriority({ type: 'bed_exit' }, rules, DAY)).toBeNull();
    expect(localPriority({ type: 'bed_exit' }, rules, NIGHT)).toBe('medium');
    expect(localPriority({ type: 'bed_exit', data: { noReturnMinutes: 10 } }, rules, DAY)).toBe('high');
    expect(localPriority({ type: 'door_open' }, rules, NIGHT)).toBe('high');
    expect(localPriority({ type: 'presence' }, rules, NIGHT)).toBeNull();
    // Home safety: high by day as by night.
    for (const type of ['smoke', 'gas', 'water_leak'] as const) expect(localPriority({ type }, rules, DAY)).toBe('high');
  });
});

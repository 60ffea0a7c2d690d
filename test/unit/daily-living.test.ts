// The daily-living rules (server/alarms/daily-living.ts) as pure functions: the four welfare checks,
// judged against the resident's own last 14 days, with the per-resident settings as outer limits.
import { describe, expect, it } from 'vitest';
import {
  type ActivityNow,
  baselineOf,
  type DailyLivingInput,
  type DaySummary,
  evaluateDailyLiving,
  localDay,
  summariseObservation,
} from '../../server/alarms/daily-living.ts';
import { evaluateEvent } from '../../server/alarms/rules.ts';
import { DEFAULT_SETTINGS, effectiveSettings } from '../../server/alarms/settings.ts';

const day = (d: number) => `2026-11-${String(d).padStart(2, '0')}`;
const at = (d: number, hhmm: string) => `${day(d)}T${hhmm}:00.000Z`;
/** A usual day: up at 07:00, to bed at 21:30 (570 after noon), quiet 90 min at most, bathroom 15 min. */
const usual = (d: number, over: Partial<DaySummary> = {}): DaySummary => ({
  day: day(d),
  upAtMin: 7 * 60,
  bedAtMin: 570,
  longestQuietMin: 90,
  longestBathMin: 15,
  ...over,
});
const fortnight = (over: Partial<DaySummary> = {}) => Array.from({ length: 14 }, (_, i) => usual(20 - i, over));
const moving = (iso: string, over: Partial<ActivityNow> = {}): ActivityNow => ({
  lastMotionAt: iso,
  lastRoom: 'bedroom',
  roomSince: iso,
  present: true,
  inBed: false,
  bedChangedAt: null,
  ...over,
});

function input(now: string, over: Partial<DailyLivingInput> = {}): DailyLivingInput {
  return {
    now,
    timezone: 'UTC',
    nightWindow: { start: '22:00', end: '06:00' },
    inactivityMinutes: 240,
    settings: { ...DEFAULT_SETTINGS.dailyLiving },
    activity: moving(now),
    today: null,
    history: fortnight(),
    ...over,
  };
}
const reasons = (i: DailyLivingInput) => evaluateDailyLiving(i).map((c) => c.reason);

describe('baseline of the last 14 days', () => {
  it('is the median of each measure, and nothing until five days are known', () => {
    const b = baselineOf([usual(1, { upAtMin: 400 }), usual(2, { upAtMin: 420 }), usual(3, { upAtMin: 500 }), usual(4), usual(5)]);
    expect(b).toEqual({ days: 5, upAtMin: 420, bedAtMin: 570, quietMin: 90, bathMin: 15 });
    expect(baselineOf(fortnight().slice(0, 4)).upAtMin).toBeNull();
  });
  it('reads at most 14 days', () => {
    const old = Array.from({ length: 20 }, (_, i) => usual(30 - i, { upAtMin: i < 14 ? 420 : 900 }));
    expect(baselineOf(old)).toMatchObject({ days: 14, upAtMin: 420 });
  });
});

describe('not up by the usual time', () => {
  it('a resident who is usually up at 07:00 and is not by 08:00 gets a welfare check (tolerance 60 min)', () => {
    const still = moving(at(21, '05:00'), { inBed: true });
    expect(reasons(input(at(21, '07:59'), { activity: still }))).toEqual([]);
    const due = evaluateDailyLiving(input(at(21, '08:00'), { activity: still }));
    expect(due).toEqual([{ reason: 'not_up', detail: { deadline: '08:00', usual: '07:00' } }]);
    // Up today: nothing.
    expect(reasons(input(at(21, '08:30'), { activity: still, today: usual(21, { upAtMin: 7 * 60 + 50 }) }))).toEqual([]);
  });
  it('without five days of history the setting (10:00 by default) decides', () => {
    const still = moving(at(21, '05:00'), { inBed: true });
    expect(reasons(input(at(21, '09:59'), { activity: still, history: fortnight().slice(0, 3) }))).toEqual([]);
    expect(reasons(input(at(21, '10:00'), { activity: still, history: fortnight().slice(0, 3) }))).toContain('not_up');
  });
  it('a late riser baseline never moves the check past the setting', () => {
    const still = moving(at(21, '05:00'), { inBed: true });
    const late = fortnight({ upAtMin: 11 * 60 });
    expect(reasons(input(at(21, '10:00'), { activity: still, history: late }))).toContain('not_up');
  });
});

describe('no movement anywhere in the day', () => {
  it('the limit is the setting, brought down by an active resident baseline (90 min x 1.5 + 60)', () => {
    const quiet = moving(at(21, '09:00'));
    const today = usual(21);
    expect(reasons(input(at(21, '12:14'), { activity: quiet, today }))).toEqual([]);
    const due = evaluateDailyLiving(input(at(21, '12:15'), { activity: quiet, today }));
    expect(due).toEqual([{ reason: 'no_movement', detail: { quietMinutes: 195, limitMinutes: 195 } }]);
    // No history: the setting, 240 min.
    expect(reasons(input(at(21, '12:15'), { activity: quiet, today, history: [] }))).toEqual([]);
    expect(reasons(input(at(21, '13:00'), { activity: quiet, today, history: [] }))).toEqual(['no_movement']);
  });
  it('the night is not counted: quiet since 22:00 is not "no movement" at 08:00', () => {
    const slept = moving(at(20, '21:30'), { inBed: true });
    expect(reasons(input(at(21, '06:30'), { activity: slept, today: usual(21), history: [] }))).toEqual([]);
    expect(reasons(input(at(21, '03:00'), { activity: slept, history: [] }))).toEqual([]);
  });
  it('is off when the resident settings say so', () => {
    const quiet = moving(at(21, '06:00'));
    const off = { ...DEFAULT_SETTINGS.dailyLiving, enabled: false };
    expect(reasons(input(at(21, '17:00'), { activity: quiet, settings: off }))).toEqual([]);
  });
});

describe('not in bed by the usual bedtime', () => {
  it('usually in bed by 21:30: still up at 22:30 is a welfare check; a bed sensor is needed', () => {
    const up = moving(at(21, '22:20'), { inBed: false, bedChangedAt: at(21, '07:00') });
    expect(reasons(input(at(21, '22:29'), { activity: up, today: usual(21) }))).toEqual([]);
    expect(evaluateDailyLiving(input(at(21, '22:30'), { activity: up, today: usual(21) }))).toEqual([
      { reason: 'not_in_bed', detail: { deadline: '22:30', usual: '21:30' } },
    ]);
    // No bed sensor: never judged.
    expect(reasons(input(at(21, '23:50'), { activity: { ...up, inBed: null }, today: usual(21) }))).toEqual([]);
  });
  it('went to bed and got up again after the deadline: that is the bed-exit rule, not this one', () => {
    const gotUp = moving(at(21, '23:00'), { inBed: false, bedChangedAt: at(21, '23:00') });
    expect(reasons(input(at(21, '23:05'), { activity: gotUp, today: usual(21) }))).toEqual([]);
  });
  it('without history the setting (23:30) decides', () => {
    const up = moving(at(21, '23:20'), { inBed: false, bedChangedAt: at(21, '07:00') });
    expect(reasons(input(at(21, '23:29'), { activity: up, today: usual(21), history: [] }))).toEqual([]);
    expect(reasons(input(at(21, '23:30'), { activity: up, today: usual(21), history: [] }))).toEqual(['not_in_bed']);
  });
});

describe('long bathroom stay', () => {
  it('usually 15 min: 75 min is a welfare check (15 + 60, under the 60 min setting: 60)', () => {
    const bath = moving(at(21, '10:00'), { lastRoom: '203 bathroom', roomSince: at(21, '10:00') });
    expect(reasons(input(at(21, '10:59'), { activity: bath, today: usual(21) }))).toEqual([]);
    expect(evaluateDailyLiving(input(at(21, '11:00'), { activity: bath, today: usual(21) }))).toEqual([
      { reason: 'long_bathroom', detail: { room: '203 bathroom', stayMinutes: 60, limitMinutes: 60 } },
    ]);
  });
  it('a tighter tolerance brings it down; a Chinese room name counts; leaving ends it', () => {
    const bath = moving(at(21, '02:00'), { lastRoom: '卫生间', roomSince: at(21, '02:00'), inBed: null });
    const settings = { ...DEFAULT_SETTINGS.dailyLiving, toleranceMinutes: 10 };
    expect(reasons(input(at(21, '02:25'), { activity: bath, settings }))).toEqual(['long_bathroom']);
    expect(reasons(input(at(21, '02:25'), { activity: { ...bath, present: false }, settings }))).toEqual([]);
  });
});

describe('day summaries', () => {
  const none: ActivityNow = { lastMotionAt: null, lastRoom: null, roomSince: null, present: false, inBed: null, bedChangedAt: null };
  const obs = (iso: string, localMin: number, o: Partial<Parameters<typeof summariseObservation>[2]> = {}) => ({
    at: iso,
    localMin,
    motion: true,
    inBed: false,
    leftRoomAfterMin: null,
    daytime: true,
    minutesIntoDay: localMin - 360,
    ...o,
  });
  const empty = { day: day(21), upAtMin: null, bedAtMin: null, longestQuietMin: 0, longestBathMin: 0 };
  it('the first movement out of bed from 04:00 is getting up; a 03:00 toilet trip is not', () => {
    expect(summariseObservation(empty, none, obs(at(21, '03:00'), 180)).upAtMin).toBeNull();
    expect(summariseObservation(empty, none, obs(at(21, '06:40'), 400)).upAtMin).toBe(400);
    expect(summariseObservation(empty, none, obs(at(21, '06:40'), 400, { inBed: true })).upAtMin).toBeNull();
  });
  it('bedtime, the longest daytime quiet and the longest bathroom stay are kept', () => {
    const before = moving(at(21, '09:00'), { inBed: false });
    const s = summariseObservation(empty, before, obs(at(21, '11:30'), 690, { leftRoomAfterMin: 25 }));
    expect(s).toMatchObject({ longestQuietMin: 150, longestBathMin: 25 });
    expect(summariseObservation(s, before, obs(at(21, '21:40'), 1300, { inBed: true })).bedAtMin).toBe(580);
    // Up at 06:50 after a night still since 21:30: 50 minutes of the day, not 560.
    const slept = moving(at(20, '21:30'), { inBed: true });
    expect(summariseObservation(empty, slept, obs(at(21, '06:50'), 410, { inBed: false })).longestQuietMin).toBe(50);
  });
  it('a local day is the date in the site time zone', () => {
    expect(localDay('2026-11-21T17:00:00.000Z', 'Asia/Shanghai')).toBe('2026-11-22');
  });
});

describe('a device that reports inactivity itself (no_motion event)', () => {
  const ctx = (data: Record<string, unknown> | undefined, settings = effectiveSettings({ inactivityMinutes: 120 })) => ({
    event: { v: 1 as const, id: 'e1', seq: 1, ts: '2026-11-21T10:00:00.000Z', device: 'pad-1', type: 'no_motion' as const, data },
    timezone: 'UTC',
    settings,
    settingsDefaults: effectiveSettings(undefined),
  });
  it('raises a medium inactivity welfare check at or past the resident limit, nothing under it', () => {
    expect(evaluateEvent(ctx({ minutes: 120 }))).toEqual([{ kind: 'raise', type: 'inactivity', priority: 'medium' }]);
    expect(evaluateEvent(ctx({ minutes: 119 }))).toEqual([]);
  });
  it('without minutes it is taken at its word; confirmDelaySeconds.inactivity holds it', () => {
    expect(evaluateEvent(ctx(undefined))).toHaveLength(1);
    const held = evaluateEvent(ctx({ minutes: 300 }, effectiveSettings({ confirmDelaySeconds: { inactivity: 60 } })));
    expect(held).toMatchObject([{ type: 'inactivity', confirmAfterMs: 60_000 }]);
  });
});

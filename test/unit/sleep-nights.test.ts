// Nightly sleep sessions (server/sleep/sleep-nights.ts) as a pure fold over one night's reports.
import { describe, expect, it } from 'vitest';
import { emptyNight, foldSleep, nightOf, type SleepObservation } from '../../server/sleep/sleep-nights.ts';

const at = (day: number, hhmm: string) => `2026-11-${String(day).padStart(2, '0')}T${hhmm}:00.000Z`;

function night(steps: Array<[string, SleepObservation]>) {
  return steps.reduce((n, [t, o]) => foldSleep(n, t, o), emptyNight());
}

describe('sleep nights', () => {
  it('in bed, asleep, woke, out of bed, and the minutes of each state', () => {
    const n = night([
      [at(20, '22:00'), { kind: 'bed', inBed: true }],
      [at(20, '22:20'), { kind: 'state', state: 'light' }],
      [at(20, '23:00'), { kind: 'state', state: 'deep' }],
      [at(21, '02:00'), { kind: 'state', state: 'light' }],
      [at(21, '05:50'), { kind: 'state', state: 'awake' }],
      [at(21, '06:00'), { kind: 'bed', inBed: false }],
    ]);
    expect(n).toMatchObject({
      in_bed_at: at(20, '22:00'),
      asleep_at: at(20, '22:20'),
      woke_at: at(21, '05:50'),
      out_of_bed_at: at(21, '06:00'),
      minutes_in_bed: 480,
      minutes_light: 40 + 230,
      minutes_deep: 180,
      minutes_awake: 10,
      times_out_of_bed: 1,
      state: 'out',
    });
  });

  it('heart and breathing ranges count only while in bed; the score is kept', () => {
    const n = night([
      [at(20, '21:00'), { kind: 'vital', metric: 'heart_rate', min: 90, max: 110 }],
      [at(20, '22:00'), { kind: 'bed', inBed: true }],
      [at(20, '23:00'), { kind: 'vital', metric: 'heart_rate', min: 58, max: 66 }],
      [at(21, '01:00'), { kind: 'vital', metric: 'heart_rate', min: 52, max: 60 }],
      [at(21, '01:00'), { kind: 'vital', metric: 'resp_rate', min: 12, max: 16 }],
      [at(21, '06:00'), { kind: 'bed', inBed: false }],
      [at(21, '06:30'), { kind: 'vital', metric: 'heart_rate', min: 100, max: 120 }],
      [at(21, '06:31'), { kind: 'score', value: 82 }],
    ]);
    expect(n).toMatchObject({ hr_min: 52, hr_max: 66, rr_min: 12, rr_max: 16, score: 82 });
  });

  it('a trip out of bed at night is counted and its time is not time in bed', () => {
    const n = night([
      [at(20, '22:00'), { kind: 'bed', inBed: true }],
      [at(21, '02:00'), { kind: 'bed', inBed: false }],
      [at(21, '02:15'), { kind: 'bed', inBed: true }],
      [at(21, '06:00'), { kind: 'bed', inBed: false }],
    ]);
    expect(n).toMatchObject({ times_out_of_bed: 2, minutes_in_bed: 240 + 225 });
  });

  it('a night runs from 18:00 to 12:00 local and is named by its evening', () => {
    expect(nightOf('2026-11-20T23:00:00.000Z', 'UTC')).toBe('2026-11-20');
    expect(nightOf('2026-11-21T05:00:00.000Z', 'UTC')).toBe('2026-11-20');
    expect(nightOf('2026-11-21T14:00:00.000Z', 'UTC')).toBeNull();
    // 22:00 in Shanghai is 14:00 UTC.
    expect(nightOf('2026-11-20T14:00:00.000Z', 'Asia/Shanghai')).toBe('2026-11-20');
  });
});

// The scenario format's `history` and `expect[].note` (simulators/scenarios/README.md): what a file
// may say and the message that names the key when it may not. Every shipped file loads.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadScenario, parseScenario } from '../../simulators/scenario-file.ts';
import { expandSteps } from '../../simulators/timeline.ts';

const base = { name: 't', startAt: '06:00', duration: '1h', steps: [{ at: '0s', device: 'bed-1', type: 'bed_exit' }] };

describe('scenario file: history and note', () => {
  it('every shipped scenario loads', () => {
    for (const f of fs.readdirSync('simulators/scenarios').filter((x) => x.endsWith('.json'))) {
      expect(() => loadScenario(path.join('simulators/scenarios', f)), f).not.toThrow();
    }
  });

  it('a history is one day of steps played for each of its days; the daily-living files carry 14', () => {
    const s = loadScenario('simulators/scenarios/not-up-by-usual-time.json');
    expect(s.history?.days).toBe(14);
    const day = expandSteps(s.history?.steps ?? [], 86_400_000);
    // Up at 06:50, the living room every 80 min from 07:00 to 20:20, in bed at 21:00.
    expect(day.map((o) => o.atMs / 60_000)).toEqual([50, 60, 140, 220, 300, 380, 460, 540, 620, 700, 780, 860, 900]);
    expect(s.expect[0]).toMatchObject({ type: 'inactivity', note: 'daily_living.not_up' });
  });

  it.each([
    [{ history: { days: 14, steps: [] }, startAt: undefined }, /history: needs "startAt"/],
    [{ history: { days: 0, steps: [] } }, /history\.days: must be a whole number from 1 to 31/],
    [{ history: { days: 32, steps: [] } }, /history\.days/],
    [{ history: { days: 2, steps: [], extra: 1 } }, /history: unknown key "extra"/],
    [{ history: { days: 2, steps: [{ at: '24h', device: 'bed-1', type: 'bed_exit' }] } }, /steps\[0\] must fall within its day/],
    [{ history: { days: 2, steps: [{ at: '1h', device: 'bed-1', silence: true }] } }, /"silence" has no meaning in history/],
    [{ expect: [{ type: 'inactivity', note: 3 }] }, /expect\[0\]\.note: must be a string/],
  ])('refuses %j', (change, message) => {
    expect(() => parseScenario({ ...base, ...change }, 'f.json')).toThrow(message);
  });
});

// A device reporting its battery below the threshold requests a low-priority `low_battery` alarm
// (DESIGN.md section 4). Pure: the engine de-duplicates repeats into the open alarm's count.
import type { AlarmRequest } from './rules.ts';

export const DEFAULT_LOW_BATTERY_PERCENT = 20;

export function evaluateBattery(
  reading: { metric: string; value: number },
  thresholdPercent = DEFAULT_LOW_BATTERY_PERCENT,
): AlarmRequest[] {
  if (reading.metric !== 'battery' || !(reading.value < thresholdPercent)) return [];
  return [{ kind: 'raise', type: 'low_battery', priority: 'low', detail: { battery: reading.value } }];
}

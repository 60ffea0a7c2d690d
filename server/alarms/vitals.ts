// Vital signs outside a resident's limits for a sustained time (e.g. SpO2 below 90 % for 60 s)
// raise a `vitals` alarm. The tracker remembers when each breach began; a reading back inside the
// limits ends it. Priority is high when the reading is far outside the limit.
import type { Priority } from '../../protocol/index.ts';

export interface Limit {
  min?: number;
  max?: number;
  sustainSeconds?: number;
}

export const DEFAULT_VITAL_LIMITS: Record<string, Limit> = {
  heart_rate: { min: 40, max: 130, sustainSeconds: 60 },
  resp_rate: { min: 8, max: 30, sustainSeconds: 60 },
  spo2: { min: 90, sustainSeconds: 60 },
  temperature: { min: 35, max: 38.5, sustainSeconds: 300 },
  bp_systolic: { min: 85, max: 180, sustainSeconds: 0 },
};

export type VitalsVerdict = { raise: false } | { raise: true; priority: Priority; detail: Record<string, unknown> };

export function createVitalsTracker() {
  const breaches = new Map<string, number>();
  return {
    observe(key: string, metric: string, value: number, tsMs: number, limit: Limit | undefined): VitalsVerdict {
      const k = `${key}:${metric}`;
      if (!limit) return { raise: false };
      const low = limit.min !== undefined && value < limit.min;
      const high = limit.max !== undefined && value > limit.max;
      if (!low && !high) {
        breaches.delete(k);
        return { raise: false };
      }
      const since = breaches.get(k) ?? tsMs;
      if (!breaches.has(k)) {
        if (breaches.size > 100_000) breaches.clear(); // bounded; a breach restarts its count
        breaches.set(k, since);
      }
      if (tsMs - since < (limit.sustainSeconds ?? 60) * 1000) return { raise: false };
      const bound = (low ? limit.min : limit.max) as number;
      const far = Math.abs(value - bound) > Math.abs(bound) * 0.1;
      return {
        raise: true,
        priority: far ? 'high' : 'medium',
        detail: { metric, value, limit: bound, direction: low ? 'below' : 'above' },
      };
    },
  };
}

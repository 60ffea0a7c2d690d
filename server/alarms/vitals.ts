// Vital signs outside a resident's limits for a sustained time (e.g. SpO2 below 90 % for 60 s)
// raise a `vitals` alarm. `evaluateVital` is the rule, a pure function of one reading and when the
// current breach began; the tracker only remembers those start times per resident and metric.
// A reading back inside the limits ends the breach. Priority is high when the reading is far
// outside the limit.
import type { AlarmRequest } from './rules.ts';

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

export interface VitalReading {
  metric: string;
  value: number;
  tsMs: number;
  /** The resident's limit for this metric, or the default; none: the metric is not judged. */
  limit: Limit | undefined;
  /** When the breach this reading may continue began (undefined: no breach open). */
  breachSince: number | undefined;
}

export interface VitalVerdict {
  /** When the breach began after this reading (undefined: none open). */
  breachSince: number | undefined;
  requests: AlarmRequest[];
}

export function evaluateVital(r: VitalReading): VitalVerdict {
  const { limit } = r;
  if (!limit) return { breachSince: r.breachSince, requests: [] };
  const low = limit.min !== undefined && r.value < limit.min;
  const high = limit.max !== undefined && r.value > limit.max;
  if (!low && !high) return { breachSince: undefined, requests: [] };
  const since = r.breachSince ?? r.tsMs;
  if (r.tsMs - since < (limit.sustainSeconds ?? 60) * 1000) return { breachSince: since, requests: [] };
  const bound = (low ? limit.min : limit.max) as number;
  const far = Math.abs(r.value - bound) > Math.abs(bound) * 0.1;
  return {
    breachSince: since,
    requests: [
      {
        kind: 'raise',
        type: 'vitals',
        priority: far ? 'high' : 'medium',
        detail: { metric: r.metric, value: r.value, limit: bound, direction: low ? 'below' : 'above' },
      },
    ],
  };
}

/** Breach start times per resident and metric (bounded: past the cap, every count restarts). */
export function createVitalsTracker(maxOpen = 100_000) {
  const breaches = new Map<string, number>();
  return {
    observe(residentId: string, reading: Omit<VitalReading, 'breachSince'>): AlarmRequest[] {
      const k = `${residentId}:${reading.metric}`;
      const verdict = evaluateVital({ ...reading, breachSince: breaches.get(k) });
      if (verdict.breachSince === undefined) breaches.delete(k);
      else if (!breaches.has(k)) {
        if (breaches.size >= maxOpen) breaches.clear();
        breaches.set(k, verdict.breachSince);
      }
      return verdict.requests;
    },
    size: () => breaches.size,
  };
}

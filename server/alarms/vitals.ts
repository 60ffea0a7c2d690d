// Vital signs outside a resident's limits raise a `vitals` alarm, and the alarm clears itself once
// the readings have been back inside the limits for a while. `evaluateVital` is the rule, a pure
// function of one reading and what the tracker remembers of that device and metric (when the
// current breach began, whether an alarm was asked for, since when readings are fine again).
//
// Spot or continuous (decided per metric and per source, see `vitalMode`):
// - heart_rate and resp_rate stream from radars, mattresses and bands: judged over `sustainSeconds`
//   (a radar's noisy second is no alarm).
// - spo2, blood pressure, glucose and temperature are usually one measurement taken by a person (a
//   finger clip, a cuff, a meter): judged alone, at once. They are judged over time only when the
//   source streams them (a radar, a mattress, a bed sensor; or any device whose previous reading of
//   that metric came less than STREAM_GAP_MS before), or when the resident's own limit sets
//   `sustainSeconds`.
// Priority is high when the reading is far (more than 10 %) outside the limit.
import type { AlarmRequest } from './rules.ts';

export interface Limit {
  min?: number;
  max?: number;
  sustainSeconds?: number;
}

/**
 * Default limits for every vital sign the server stores (battery, rssi and presence are not vital
 * signs: battery has its own rule). Glucose in mmol/L: below 3.9 is hypoglycaemia, above 13.9
 * (250 mg/dL) is high enough to call someone.
 */
export const DEFAULT_VITAL_LIMITS: Record<string, Limit> = {
  heart_rate: { min: 40, max: 130, sustainSeconds: 60 },
  resp_rate: { min: 8, max: 30, sustainSeconds: 60 },
  spo2: { min: 90, sustainSeconds: 60 },
  temperature: { min: 35, max: 38.5, sustainSeconds: 300 },
  bp_systolic: { min: 85, max: 180, sustainSeconds: 0 },
  bp_diastolic: { min: 50, max: 110, sustainSeconds: 0 },
  glucose: { min: 3.9, max: 13.9, sustainSeconds: 0 },
};

/** Metrics that are measurements a person takes unless the source streams them. */
export const SPOT_METRICS: ReadonlySet<string> = new Set(['spo2', 'bp_systolic', 'bp_diastolic', 'glucose', 'temperature']);
/** Device kinds that stream what they measure (radars under or beside the bed, mattresses). */
export const STREAMING_KINDS: ReadonlySet<string> = new Set(['fall_detector', 'bed_sensor', 'presence_sensor']);
/** A device whose previous reading of a metric is younger than this streams it. */
export const STREAM_GAP_MS = 120_000;
/** Readings back inside the limits this long clear the vitals alarm (unless someone has taken it). */
export const DEFAULT_CLEAR_AFTER_SECONDS = 300;

export type VitalMode = 'spot' | 'continuous';

/** How a reading is judged: alone (spot) or over the limit's sustain time (continuous). */
export function vitalMode(metric: string, sourceKind: string | null, streaming: boolean, residentLimit: Limit | undefined): VitalMode {
  if (residentLimit?.sustainSeconds !== undefined) return 'continuous';
  if (!SPOT_METRICS.has(metric)) return 'continuous';
  return streaming || (sourceKind !== null && STREAMING_KINDS.has(sourceKind)) ? 'continuous' : 'spot';
}

export interface VitalState {
  /** When the breach now open began. */
  breachSince?: number;
  /** An alarm was asked for and not cleared since. */
  raised?: boolean;
  /** When the raise was asked for with a confirmation delay ending then (held, not yet on screen). */
  heldUntil?: number;
  /** Since when readings are back inside the limits after an alarm. */
  fineSince?: number;
}

export interface VitalReading {
  metric: string;
  value: number;
  tsMs: number;
  /** The resident's limit for this metric, or the default; none: the metric is not judged. */
  limit: Limit | undefined;
  mode: VitalMode;
  /** `confirmDelaySeconds.vitals`: a medium alarm waits this long, cancelled if readings recover. */
  confirmDelaySeconds?: number;
  clearAfterSeconds?: number;
}

export interface VitalVerdict {
  state: VitalState;
  requests: AlarmRequest[];
}

export function evaluateVital(r: VitalReading, state: VitalState): VitalVerdict {
  const { limit } = r;
  if (!limit) return { state, requests: [] };
  const low = limit.min !== undefined && r.value < limit.min;
  const high = limit.max !== undefined && r.value > limit.max;
  if (!low && !high) return recovered(r, state);
  const since = state.breachSince ?? r.tsMs;
  const sustainMs = r.mode === 'spot' ? 0 : (limit.sustainSeconds ?? 60) * 1000;
  const next: VitalState = { ...state, breachSince: since, fineSince: undefined };
  if (r.tsMs - since < sustainMs) return { state: next, requests: [] };
  const bound = (low ? limit.min : limit.max) as number;
  const far = Math.abs(r.value - bound) > Math.abs(bound) * 0.1;
  const priority = far ? 'high' : 'medium';
  const delayMs = priority === 'medium' && !state.raised ? (r.confirmDelaySeconds ?? 0) * 1000 : 0;
  next.raised = true;
  if (delayMs > 0) next.heldUntil = r.tsMs + delayMs;
  return {
    state: next,
    requests: [
      {
        kind: 'raise',
        type: 'vitals',
        priority,
        ...(delayMs > 0 ? { confirmAfterMs: delayMs } : {}),
        detail: { metric: r.metric, value: r.value, limit: bound, direction: low ? 'below' : 'above', mode: r.mode },
      },
    ],
  };
}

/** A reading inside the limits: the breach ends; an alarm asked for clears after the set time. */
function recovered(r: VitalReading, state: VitalState): VitalVerdict {
  if (!state.raised) return { state: {}, requests: [] };
  const clear = (): VitalVerdict => ({
    state: {},
    requests: [
      {
        kind: 'clear',
        type: 'vitals',
        onlyIfUnacknowledged: true,
        detail: { metric: r.metric, value: r.value, note: `${r.metric} back in range` },
      },
    ],
  });
  // Still held for confirmation: the cause ended by itself, nothing is raised.
  if (state.heldUntil !== undefined && r.tsMs < state.heldUntil) return clear();
  const fineSince = state.fineSince ?? r.tsMs;
  if (r.tsMs - fineSince < (r.clearAfterSeconds ?? DEFAULT_CLEAR_AFTER_SECONDS) * 1000) {
    return { state: { raised: true, fineSince }, requests: [] };
  }
  return clear();
}

/**
 * What the rule remembers per device and metric (bounded: past the cap, every count restarts),
 * and when each device last sent each metric (to tell a stream from a spot reading).
 */
export function createVitalsTracker(maxOpen = 100_000) {
  const states = new Map<string, VitalState>();
  const lastSeen = new Map<string, number>();
  const remember = <V>(m: Map<string, V>, k: string, v: V) => {
    if (!m.has(k) && m.size >= maxOpen) m.clear();
    m.set(k, v);
  };
  return {
    /** Whether `source` sent `metric` less than STREAM_GAP_MS before `tsMs`; notes this reading. */
    streaming(source: string, metric: string, tsMs: number): boolean {
      const k = `${source}\u0000${metric}`;
      const prev = lastSeen.get(k);
      if (prev === undefined || tsMs > prev) remember(lastSeen, k, tsMs);
      return prev !== undefined && Math.abs(tsMs - prev) < STREAM_GAP_MS;
    },
    observe(source: string, reading: Omit<VitalReading, 'mode'> & { mode?: VitalMode }): AlarmRequest[] {
      const k = `${source}\u0000${reading.metric}`;
      const verdict = evaluateVital({ mode: 'continuous', ...reading }, states.get(k) ?? {});
      const s = verdict.state;
      if (s.breachSince === undefined && !s.raised) states.delete(k);
      else remember(states, k, s);
      // One vitals alarm per device: it clears only when every metric that raised it is fine.
      const requests = verdict.requests.filter((q) => q.kind === 'raise' || !otherRaised(source, reading.metric));
      return requests;
    },
    size: () => states.size + lastSeen.size,
  };

  function otherRaised(source: string, metric: string): boolean {
    for (const m of Object.keys(DEFAULT_VITAL_LIMITS)) {
      if (m !== metric && states.get(`${source}\u0000${m}`)?.raised) return true;
    }
    return false;
  }
}

// Timed steps shared by scenarios and serial scripts: `{"at":"2m","device":"bed","type":"bed_exit"}`,
// `{"at":"0s","device":"radar","metric":"heart_rate","value":72,"every":"30s"}`,
// `{"at":"5m","device":"radar","silence":true}`. Validated at load with the step's index in
// the message; expanded into a flat, time-ordered list of what happens when.
import { EVENT_TYPES, type EventType, METRICS, type Metric } from '../protocol/index.ts';
import { parseDuration, sleep, UsageError } from './cli.ts';

export type StepAction =
  | { kind: 'event'; type: EventType; data?: Record<string, unknown> }
  | { kind: 'reading'; metric: Metric; value: number }
  | { kind: 'silence' };

export interface Step {
  atMs: number;
  /** A device id or an alias the caller resolves; undefined means the caller's default device. */
  device?: string;
  everyMs?: number;
  untilMs?: number;
  /** A line printed when the step runs, for a person watching. */
  note?: string;
  action: StepAction;
}

export interface Occurrence {
  atMs: number;
  device?: string;
  note?: string;
  action: StepAction;
}

const STEP_KEYS = new Set(['at', 'device', 'type', 'data', 'metric', 'value', 'silence', 'every', 'until', 'note']);

export function parseSteps(raw: unknown, where: string): Step[] {
  if (!Array.isArray(raw)) throw new UsageError(`${where}: "steps" must be an array`);
  return raw.map((s, i) => parseStep(s, `${where}: steps[${i}]`));
}

function parseStep(s: unknown, where: string): Step {
  if (typeof s !== 'object' || s === null || Array.isArray(s)) throw new UsageError(`${where}: must be an object`);
  const o = s as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!STEP_KEYS.has(k)) throw new UsageError(`${where}: unknown key "${k}"`);
  const dur = (k: string) => {
    const v = o[k];
    if (v === undefined) return undefined;
    if (typeof v !== 'string' && typeof v !== 'number') throw new UsageError(`${where}.${k}: must be a duration like "90s"`);
    return parseDuration(v, `${where}.${k}`);
  };
  const atMs = dur('at');
  if (atMs === undefined) throw new UsageError(`${where}: "at" is required`);
  if (o.device !== undefined && typeof o.device !== 'string') throw new UsageError(`${where}.device: must be a string`);
  if (o.note !== undefined && typeof o.note !== 'string') throw new UsageError(`${where}.note: must be a string`);
  const everyMs = dur('every');
  if (everyMs !== undefined && everyMs <= 0) throw new UsageError(`${where}.every: must be more than 0`);
  const kinds = ['type', 'metric', 'silence'].filter((k) => o[k] !== undefined);
  if (kinds.length !== 1) throw new UsageError(`${where}: needs exactly one of "type", "metric" or "silence"`);
  let action: StepAction;
  if (o.type !== undefined) {
    if (!(EVENT_TYPES as readonly unknown[]).includes(o.type))
      throw new UsageError(`${where}.type: "${String(o.type)}" is not one of ${EVENT_TYPES.join(', ')}`);
    if (o.data !== undefined && (typeof o.data !== 'object' || o.data === null || Array.isArray(o.data))) {
      throw new UsageError(`${where}.data: must be an object`);
    }
    action = { kind: 'event', type: o.type as EventType, ...(o.data ? { data: o.data as Record<string, unknown> } : {}) };
  } else if (o.metric !== undefined) {
    if (!(METRICS as readonly unknown[]).includes(o.metric))
      throw new UsageError(`${where}.metric: "${String(o.metric)}" is not one of ${METRICS.join(', ')}`);
    if (typeof o.value !== 'number' || !Number.isFinite(o.value)) throw new UsageError(`${where}.value: must be a number`);
    action = { kind: 'reading', metric: o.metric as Metric, value: o.value };
  } else {
    if (o.silence !== true) throw new UsageError(`${where}.silence: must be true`);
    action = { kind: 'silence' };
  }
  return { atMs, device: o.device as string | undefined, everyMs, untilMs: dur('until'), note: o.note as string | undefined, action };
}

/**
 * Flattens steps into occurrences ordered by time. A repeating step runs from `at` every `every`
 * until `until`, `endMs`, or a later silence step for the same device, whichever comes first.
 */
export function expandSteps(steps: Step[], endMs: number): Occurrence[] {
  const silences = steps.filter((s) => s.action.kind === 'silence');
  const out: Occurrence[] = [];
  for (const s of steps) {
    if (s.everyMs === undefined) {
      out.push({ atMs: s.atMs, device: s.device, note: s.note, action: s.action });
      continue;
    }
    const silencedAt = Math.min(...silences.filter((x) => x.device === s.device && x.atMs > s.atMs).map((x) => x.atMs));
    const stop = Math.min(s.untilMs ?? Number.POSITIVE_INFINITY, endMs, silencedAt);
    for (let t = s.atMs; t < stop || (t === s.atMs && t <= stop); t += s.everyMs) {
      out.push({ atMs: t, device: s.device, note: t === s.atMs ? s.note : undefined, action: s.action });
    }
  }
  // Stable: steps at the same time keep their file order.
  return out
    .map((o, i) => ({ o, i }))
    .sort((a, b) => a.o.atMs - b.o.atMs || a.i - b.i)
    .map((x) => x.o);
}

/** The time the last one-off step happens (repeating steps alone do not make a scenario longer). */
export function lastStepMs(steps: Step[]): number {
  return Math.max(0, ...steps.map((s) => (s.everyMs === undefined ? s.atMs : s.atMs)));
}

/**
 * Runs occurrences against the wall clock: scenario time `atMs` happens `atMs / timeScale` after
 * the start. Stops early when `signal` aborts.
 */
export async function playTimeline(
  occurrences: Occurrence[],
  timeScale: number,
  fire: (o: Occurrence) => Promise<void>,
  signal?: AbortSignal,
): Promise<void> {
  const start = Date.now();
  for (const o of occurrences) {
    const wait = start + o.atMs / timeScale - Date.now();
    if (wait > 0) await sleep(wait);
    if (signal?.aborted) return;
    await fire(o);
  }
}

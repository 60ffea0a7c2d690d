// The scenario file format (documented in scenarios/README.md): device aliases, an optional
// scenario clock, timed steps and expected alarms. Validated on load; every error names the file
// and the key.
import fs from 'node:fs';
import { ALARM_STATES, ALARM_TYPES, type AlarmState, type AlarmType, isTopicSafeId, PRIORITIES, type Priority } from '../protocol/index.ts';
import { parseDuration, UsageError } from './cli.ts';
import { lastStepMs, parseSteps, type Step } from './timeline.ts';

export interface Expectation {
  type: AlarmType;
  priority?: Priority;
  state?: AlarmState;
  /** Alias or device id. */
  device?: string;
  /** Wall-clock time allowed after the last step (the server's clock is never scaled). */
  withinMs: number;
  /** The alarm must NOT appear (checked for `withinMs` after the last step). */
  absent: boolean;
  /** The alarm's note must match too (e.g. `daily_living.not_up` for the daily-living checks). */
  note?: string;
}

/** Days played before the scenario day, as a gateway's backlog: the resident's usual fortnight. */
export interface History {
  days: number;
  /** Steps of one such day, `at` counted from `startAt` of that day (up to 24 h). */
  steps: Step[];
}

export interface Scenario {
  name: string;
  description?: string;
  devices: Record<string, string>;
  startAt?: { hour: number; minute: number };
  timezone?: string;
  durationMs: number;
  steps: Step[];
  history?: History;
  expect: Expectation[];
}

const TOP_KEYS = new Set(['name', 'description', 'devices', 'startAt', 'timezone', 'duration', 'steps', 'history', 'expect']);
const EXPECT_KEYS = new Set(['type', 'priority', 'state', 'device', 'within', 'absent', 'note']);
const HISTORY_KEYS = new Set(['days', 'steps']);
/** Most days of history a scenario may play. */
export const MAX_HISTORY_DAYS = 31;
const DAY_MS = 86_400_000;

export function loadScenario(file: string): Scenario {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new UsageError(`${file}: ${(err as Error).message}`);
  }
  return parseScenario(raw, file);
}

export function parseScenario(raw: unknown, where: string): Scenario {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new UsageError(`${where}: must be a JSON object`);
  const o = raw as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!TOP_KEYS.has(k)) throw new UsageError(`${where}: unknown key "${k}"`);
  const devices: Record<string, string> = {};
  if (o.devices !== undefined) {
    if (typeof o.devices !== 'object' || o.devices === null)
      throw new UsageError(`${where}.devices: must be an object of alias -> device id`);
    for (const [alias, id] of Object.entries(o.devices)) {
      if (typeof id !== 'string' || !isTopicSafeId(id))
        throw new UsageError(`${where}.devices.${alias}: "${String(id)}" is not a device id`);
      devices[alias] = id;
    }
  }
  let startAt: Scenario['startAt'];
  if (o.startAt !== undefined) {
    const m = typeof o.startAt === 'string' ? /^([01]\d|2[0-3]):([0-5]\d)$/.exec(o.startAt) : null;
    if (!m) throw new UsageError(`${where}.startAt: must be a local time of day "HH:MM"`);
    startAt = { hour: Number(m[1]), minute: Number(m[2]) };
  }
  if (o.timezone !== undefined && (typeof o.timezone !== 'string' || !validTimezone(o.timezone))) {
    throw new UsageError(`${where}.timezone: "${String(o.timezone)}" is not an IANA time zone`);
  }
  const steps = parseSteps(o.steps, where);
  const durationMs = o.duration === undefined ? lastStepMs(steps) : parseDuration(o.duration as string, `${where}.duration`);
  const history = o.history === undefined ? undefined : parseHistory(o.history, `${where}.history`, startAt !== undefined);
  const expectRaw = o.expect ?? [];
  if (!Array.isArray(expectRaw)) throw new UsageError(`${where}.expect: must be an array`);
  const expect = expectRaw.map((e, i) => parseExpectation(e, `${where}: expect[${i}]`));
  return {
    name: typeof o.name === 'string' ? o.name : where,
    description: typeof o.description === 'string' ? o.description : undefined,
    devices,
    startAt,
    timezone: o.timezone as string | undefined,
    durationMs,
    steps,
    ...(history ? { history } : {}),
    expect,
  };
}

function parseHistory(h: unknown, where: string, hasStartAt: boolean): History {
  if (typeof h !== 'object' || h === null || Array.isArray(h)) throw new UsageError(`${where}: must be an object {"days", "steps"}`);
  const o = h as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!HISTORY_KEYS.has(k)) throw new UsageError(`${where}: unknown key "${k}"`);
  if (!hasStartAt) throw new UsageError(`${where}: needs "startAt" (history days are counted back from it)`);
  if (typeof o.days !== 'number' || !Number.isInteger(o.days) || o.days < 1 || o.days > MAX_HISTORY_DAYS)
    throw new UsageError(`${where}.days: must be a whole number from 1 to ${MAX_HISTORY_DAYS}`);
  const steps = parseSteps(o.steps, where);
  for (const [i, s] of steps.entries()) {
    if (s.atMs >= DAY_MS || (s.untilMs ?? 0) > DAY_MS) throw new UsageError(`${where}: steps[${i}] must fall within its day (under 24h)`);
    if (s.action.kind === 'silence') throw new UsageError(`${where}: steps[${i}]: "silence" has no meaning in history`);
  }
  return { days: o.days, steps };
}

function parseExpectation(e: unknown, where: string): Expectation {
  if (typeof e !== 'object' || e === null || Array.isArray(e)) throw new UsageError(`${where}: must be an object`);
  const o = e as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!EXPECT_KEYS.has(k)) throw new UsageError(`${where}: unknown key "${k}"`);
  const oneOf = <T extends string>(k: string, values: readonly T[]): T | undefined => {
    if (o[k] === undefined) return undefined;
    if (!(values as readonly unknown[]).includes(o[k]))
      throw new UsageError(`${where}.${k}: "${String(o[k])}" is not one of ${values.join(', ')}`);
    return o[k] as T;
  };
  const type = oneOf('type', ALARM_TYPES);
  if (!type) throw new UsageError(`${where}: "type" is required (${ALARM_TYPES.join(', ')})`);
  if (o.device !== undefined && typeof o.device !== 'string') throw new UsageError(`${where}.device: must be a string`);
  if (o.absent !== undefined && typeof o.absent !== 'boolean') throw new UsageError(`${where}.absent: must be true or false`);
  if (o.note !== undefined && typeof o.note !== 'string') throw new UsageError(`${where}.note: must be a string`);
  const absent = o.absent === true;
  return {
    type,
    priority: oneOf('priority', PRIORITIES),
    state: oneOf('state', ALARM_STATES),
    device: o.device as string | undefined,
    withinMs: o.within === undefined ? (absent ? 3000 : 10_000) : parseDuration(o.within as string, `${where}.within`),
    absent,
    ...(typeof o.note === 'string' ? { note: o.note } : {}),
  };
}

export function validTimezone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** Milliseconds to add to UTC to get local time in `tz` at instant `ms`. */
function tzOffsetMs(ms: number, tz: string): number {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-GB', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    })
      .formatToParts(new Date(ms))
      .map((p) => [p.type, Number(p.value)]),
  ) as Record<string, number>;
  const asUtc = Date.UTC(parts.year as number, (parts.month as number) - 1, parts.day, parts.hour, parts.minute, parts.second);
  return asUtc - Math.floor(ms / 1000) * 1000;
}

/**
 * The scenario clock's start: the latest instant that reads `startAt` in `tz` and leaves the whole
 * scenario in the past, so no event carries a future timestamp.
 */
export function scenarioStart(startAt: { hour: number; minute: number }, tz: string, durationMs: number, now = Date.now()): number {
  for (let daysBack = 0; daysBack < 400; daysBack++) {
    const local = new Date(now + tzOffsetMs(now, tz) - daysBack * 86_400_000);
    const wall = Date.UTC(local.getUTCFullYear(), local.getUTCMonth(), local.getUTCDate(), startAt.hour, startAt.minute);
    let t = wall - tzOffsetMs(wall, tz);
    t = wall - tzOffsetMs(t, tz);
    if (t + durationMs <= now) return t;
  }
  throw new UsageError('scenario is longer than a year');
}

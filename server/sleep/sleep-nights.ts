// Nightly sleep sessions, computed on the server from what bed radars and mattresses send: bed
// exits and returns, sleep-state changes (deep / light / awake), the heart and breathing rates read
// while in bed, and the device's own sleep score. One row per resident and night (`sleep_nights`,
// the local date the night began); `foldSleep` is the pure step, the recorder stores its result.
// Like the daily-living watch it runs after commit and its failures never touch ingest or alarms.
import type { Logger } from 'pino';
import { localDay } from '../alarms/daily-living.ts';
import { localMinutes } from '../alarms/settings.ts';
import type { Db, Resident, Site } from '../storage/registry.ts';
import type { SleepNightsTable } from '../storage/tables.ts';

export type SleepState = 'in_bed' | 'deep' | 'light' | 'awake' | 'out';
export type SleepObservation =
  | { kind: 'bed'; inBed: boolean }
  | { kind: 'state'; state: 'deep' | 'light' | 'awake' }
  | { kind: 'vital'; metric: 'heart_rate' | 'resp_rate'; min: number; max: number }
  | { kind: 'score'; value: number };

export type SleepNight = Omit<SleepNightsTable, 'resident_id' | 'night' | 'state'> & { state: SleepState | null };

export const emptyNight = (): SleepNight => ({
  in_bed_at: null,
  asleep_at: null,
  woke_at: null,
  out_of_bed_at: null,
  minutes_in_bed: 0,
  minutes_deep: 0,
  minutes_light: 0,
  minutes_awake: 0,
  times_out_of_bed: 0,
  hr_min: null,
  hr_max: null,
  rr_min: null,
  rr_max: null,
  score: null,
  state: null,
  state_since: null,
});

/** The night an observation belongs to: from 18:00 to 12:00 local, keyed by the evening's date. */
export function nightOf(iso: string, timeZone: string): string | null {
  const min = localMinutes(iso, timeZone);
  if (min >= 12 * 60 && min < 18 * 60) return null;
  return localDay(new Date(Date.parse(iso) - 12 * 3600_000).toISOString(), timeZone);
}

const lower = (a: number | null, b: number) => (a === null ? b : Math.min(a, b));
const higher = (a: number | null, b: number) => (a === null ? b : Math.max(a, b));

/** One observation at `at` applied to a night: minutes of the state that ends are added up. */
export function foldSleep(night: SleepNight, at: string, o: SleepObservation): SleepNight {
  const n: SleepNight = { ...night };
  if (o.kind === 'vital') {
    // Judged by the reading's own time (readings travel in a batched lane and may arrive after
    // the bed exit): between going to bed and getting up.
    const inBed = n.in_bed_at !== null && at >= n.in_bed_at && (n.state !== 'out' || (n.out_of_bed_at !== null && at <= n.out_of_bed_at));
    if (!inBed) return n;
    if (o.metric === 'heart_rate') [n.hr_min, n.hr_max] = [lower(n.hr_min, o.min), higher(n.hr_max, o.max)];
    else [n.rr_min, n.rr_max] = [lower(n.rr_min, o.min), higher(n.rr_max, o.max)];
    return n;
  }
  if (o.kind === 'score') {
    n.score = o.value;
    return n;
  }
  const next: SleepState = o.kind === 'bed' ? (o.inBed ? (n.state && n.state !== 'out' ? n.state : 'in_bed') : 'out') : o.state;
  if (next === n.state) return n;
  // Time spent in the state that ends now.
  if (n.state && n.state !== 'out' && n.state_since) {
    // Whole minutes: the columns are integers (PostgreSQL refuses a fraction there).
    const minutes = Math.max(0, Math.round((Date.parse(at) - Date.parse(n.state_since)) / 60_000));
    if (minutes < 24 * 60) {
      n.minutes_in_bed += minutes;
      if (n.state === 'deep') n.minutes_deep += minutes;
      if (n.state === 'light') n.minutes_light += minutes;
      if (n.state === 'awake') n.minutes_awake += minutes;
    }
  }
  if (next !== 'out') n.in_bed_at ??= at;
  if ((next === 'deep' || next === 'light') && n.asleep_at === null) n.asleep_at = at;
  if (next === 'awake' && n.asleep_at !== null) n.woke_at = at;
  if (next === 'out' && n.state !== null) {
    n.out_of_bed_at = at;
    n.times_out_of_bed += 1;
  }
  n.state = next;
  n.state_since = at;
  return n;
}

export interface SleepRecorderDeps {
  db: Db;
  log: Logger;
  lookups: { getResident(id: string): Promise<Resident | undefined>; getSite(id: string): Promise<Site | undefined> };
  defaultTimezone?: string;
}

const MAX_PENDING = 10_000;
/** Readings kept per night while its first bed or sleep event has not come yet, and nights kept. */
const MAX_EARLY_PER_NIGHT = 200;
const MAX_EARLY_NIGHTS = 1_000;

export function createSleepRecorder(deps: SleepRecorderDeps) {
  const { db, log } = deps;
  const defaultTimezone = deps.defaultTimezone ?? Intl.DateTimeFormat().resolvedOptions().timeZone;
  let pending: Array<{ residentId: string; at: string; o: SleepObservation }> = [];
  let chain: Promise<void> = Promise.resolve();
  /**
   * Readings (vitals, the score) travel another lane than bed and sleep events, so a night's first
   * readings may come before the event that begins it: they wait here (bounded, oldest dropped) and
   * are folded in when the night begins, instead of being lost.
   */
  const early = new Map<string, Array<{ at: string; o: SleepObservation }>>();
  function keepEarly(key: string, at: string, o: SleepObservation) {
    const list = early.get(key) ?? [];
    list.push({ at, o });
    if (list.length > MAX_EARLY_PER_NIGHT) list.shift();
    early.delete(key);
    early.set(key, list);
    if (early.size > MAX_EARLY_NIGHTS) early.delete(early.keys().next().value as string);
  }

  async function record(residentId: string, at: string, o: SleepObservation) {
    const resident = await deps.lookups.getResident(residentId);
    if (!resident) return;
    const tz = (await deps.lookups.getSite(resident.siteId))?.timezone ?? defaultTimezone;
    const night = nightOf(at, tz);
    if (night === null) return;
    const row = await db
      .selectFrom('sleep_nights')
      .selectAll()
      .where('resident_id', '=', residentId)
      .where('night', '=', night)
      .executeTakeFirst();
    const key = `${residentId}|${night}`;
    if (!row && o.kind !== 'bed' && o.kind !== 'state') {
      keepEarly(key, at, o);
      return;
    }
    const before: SleepNight = row ? { ...emptyNight(), ...row, state: (row.state as SleepState | null) ?? null } : emptyNight();
    let after = foldSleep(before, at, o);
    const waiting = early.get(key);
    if (waiting) {
      early.delete(key);
      for (const w of waiting) after = foldSleep(after, w.at, w.o);
    }
    if (JSON.stringify(after) === JSON.stringify(before)) return;
    const { resident_id: _r, night: _n, ...values } = { resident_id: residentId, night, ...after };
    await db
      .insertInto('sleep_nights')
      .values({ resident_id: residentId, night, ...values })
      .onConflict((oc) => oc.columns(['resident_id', 'night']).doUpdateSet(values))
      .execute();
  }

  return {
    observe(items: Array<{ residentId: string; at: string; o: SleepObservation }>): Promise<void> {
      if (items.length === 0) return chain;
      if (pending.length + items.length > MAX_PENDING) {
        log.warn({ dropped: pending.length }, 'sleep observations behind; vital-sign ranges dropped');
        pending = pending.filter((p) => p.o.kind !== 'vital');
      }
      pending.push(...items.slice(-MAX_PENDING));
      chain = chain.then(async () => {
        const batch = pending;
        pending = [];
        for (const p of batch) {
          try {
            await record(p.residentId, p.at, p.o);
          } catch (err) {
            log.error({ err, residentId: p.residentId }, 'sleep observation not recorded');
          }
        }
      });
      return chain;
    },
    idle: () => chain,
  };
}
export type SleepRecorder = ReturnType<typeof createSleepRecorder>;

/** What an event says about sleep (null: nothing). */
export function sleepOfEvent(type: string, data: Record<string, unknown> | undefined): SleepObservation | null {
  if (type === 'bed_exit') return { kind: 'bed', inBed: false };
  if (type === 'bed_return') return { kind: 'bed', inBed: true };
  if (type === 'sleep_state') {
    const s = data?.state;
    return s === 'deep' || s === 'light' || s === 'awake' ? { kind: 'state', state: s } : null;
  }
  return null;
}

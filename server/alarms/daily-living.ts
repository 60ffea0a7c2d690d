// Daily living and the 24-hour watch (issue 17): pure rules over what presence, bed and door data
// say about a resident now, judged against the resident's own last 14 days. Four welfare checks,
// all raised as one `inactivity` alarm (medium) whose note names the reason for the screen:
// - no_movement: nothing moved anywhere for too long in the day;
// - not_up: not up by the usual time;
// - not_in_bed: not in bed by the usual bedtime (needs a bed sensor);
// - long_bathroom: in the bathroom for too long.
// The per-resident settings are the outer limits; the baseline can only make a check come sooner
// (an active resident quiet for half their usual day is worth a look), never later, so a
// baseline learnt from a bad fortnight can never hide a welfare check.
import { localMinutes } from './settings.ts';

export const DAILY_LIVING_REASONS = ['no_movement', 'not_up', 'not_in_bed', 'long_bathroom'] as const;
export type DailyLivingReason = (typeof DAILY_LIVING_REASONS)[number];
/** The alarm note a screen translates: `daily_living.<reason>`. */
export const reasonNote = (r: DailyLivingReason) => `daily_living.${r}`;

/** Days of history the baseline reads, and how many it needs before it counts. */
export const BASELINE_DAYS = 14;
export const MIN_BASELINE_DAYS = 5;
/** The local hour a new day starts for "getting up" (a trip to the toilet at 03:00 is not rising). */
export const DAY_STARTS_AT_MIN = 4 * 60;
/** Shortest quiet time and bathroom stay a baseline may bring a check down to. */
const FLOOR_QUIET_MIN = 60;
const FLOOR_BATH_MIN = 15;

/** Rooms whose name says bathroom or toilet, in English or Chinese. */
export const BATHROOM_ROOM = /bath|toilet|wc|restroom|washroom|卫生间|厕所|浴室|洗手间/i;

/** One resident's day (local date), as the activity recorder sums it up. */
export interface DaySummary {
  day: string;
  /** Local minutes after midnight of the first movement out of bed from DAY_STARTS_AT_MIN on. */
  upAtMin: number | null;
  /** Going to bed that evening, in minutes after local noon (23:00 is 660, 01:00 is 780). */
  bedAtMin: number | null;
  /** Longest daytime stretch with no movement anywhere, in minutes. */
  longestQuietMin: number;
  /** Longest bathroom stay, in minutes. */
  longestBathMin: number;
}

/** What is known about the resident now. */
export interface ActivityNow {
  /** Last movement anywhere (any presence or event from the resident's devices). */
  lastMotionAt: string | null;
  lastRoom: string | null;
  /** When the resident was first seen in `lastRoom` this time. */
  roomSince: string | null;
  /** Someone is still seen in `lastRoom` (false once its sensor reports nobody). */
  present: boolean;
  /** null: no bed sensor has ever said. */
  inBed: boolean | null;
  bedChangedAt: string | null;
}

export interface DailyLivingSettings {
  enabled: boolean;
  upBy: string;
  inBedBy: string;
  bathroomMinutes: number;
  toleranceMinutes: number;
}

export interface DailyLivingInput {
  now: string;
  timezone: string;
  nightWindow: { start: string; end: string };
  inactivityMinutes: number;
  settings: DailyLivingSettings;
  activity: ActivityNow;
  /** Today's summary so far (null: nothing recorded today). */
  today: DaySummary | null;
  /** Earlier days, newest first, at most BASELINE_DAYS. */
  history: DaySummary[];
}

export interface Baseline {
  days: number;
  upAtMin: number | null;
  bedAtMin: number | null;
  quietMin: number | null;
  bathMin: number | null;
}

export interface WelfareCheck {
  reason: DailyLivingReason;
  /** What the check was judged against, for the audit trail and the screen. */
  detail: Record<string, number | string>;
}

const hhmm = (s: string) => Number(s.slice(0, 2)) * 60 + Number(s.slice(3, 5));
const fromNoon = (min: number) => (min - 720 + 1440) % 1440;
const minutesBetween = (a: string, b: string) => (Date.parse(b) - Date.parse(a)) / 60_000;

function median(values: Array<number | null>): number | null {
  const v = values.filter((x): x is number => x !== null && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length < MIN_BASELINE_DAYS) return null;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? (v[mid] as number) : ((v[mid - 1] as number) + (v[mid] as number)) / 2;
}

/** The resident's usual day: medians over up to BASELINE_DAYS days (null until MIN_BASELINE_DAYS). */
export function baselineOf(history: DaySummary[]): Baseline {
  const days = history.slice(0, BASELINE_DAYS);
  return {
    days: days.length,
    upAtMin: median(days.map((d) => d.upAtMin)),
    bedAtMin: median(days.map((d) => d.bedAtMin)),
    quietMin: median(days.map((d) => (d.longestQuietMin > 0 ? d.longestQuietMin : null))),
    bathMin: median(days.map((d) => (d.longestBathMin > 0 ? d.longestBathMin : null))),
  };
}

/** The local calendar date of `iso` in `timeZone` (YYYY-MM-DD). */
export function localDay(iso: string, timeZone: string): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(iso));
}

/** The welfare checks due now; empty when all is well. */
export function evaluateDailyLiving(input: DailyLivingInput): WelfareCheck[] {
  const { settings: s, activity: a, now, timezone } = input;
  if (!s.enabled || a.lastMotionAt === null) return [];
  const base = baselineOf(input.history);
  const nowMin = localMinutes(now, timezone);
  const nightStart = hhmm(input.nightWindow.start);
  const nightEnd = hhmm(input.nightWindow.end);
  const atNight = nightStart <= nightEnd ? nowMin >= nightStart && nowMin < nightEnd : nowMin >= nightStart || nowMin < nightEnd;
  const tol = s.toleranceMinutes;
  const out: WelfareCheck[] = [];

  // A long bathroom stay, at any hour (first: the most urgent, a fall there is likely).
  if (a.present && a.lastRoom !== null && a.roomSince !== null && BATHROOM_ROOM.test(a.lastRoom)) {
    const stay = minutesBetween(a.roomSince, now);
    const limit = base.bathMin === null ? s.bathroomMinutes : Math.min(s.bathroomMinutes, Math.max(FLOOR_BATH_MIN, base.bathMin + tol));
    if (stay >= limit)
      out.push({ reason: 'long_bathroom', detail: { room: a.lastRoom, stayMinutes: Math.floor(stay), limitMinutes: limit } });
  }

  // Not up by the usual time: from the start of the day until the evening.
  const upBy = Math.min(hhmm(s.upBy), base.upAtMin === null ? Number.POSITIVE_INFINITY : base.upAtMin + tol);
  if (!atNight && nowMin >= upBy && nowMin >= DAY_STARTS_AT_MIN && nowMin < 18 * 60 && input.today?.upAtMin == null) {
    out.push({ reason: 'not_up', detail: { deadline: clock(upBy), ...(base.upAtMin !== null ? { usual: clock(base.upAtMin) } : {}) } });
  }

  // No movement anywhere in the day: quiet counted from the end of the night at the earliest.
  if (!atNight) {
    const minutesIntoDay = (nowMin - nightEnd + 1440) % 1440;
    const quiet = Math.min(minutesBetween(a.lastMotionAt, now), minutesIntoDay);
    const limit =
      base.quietMin === null
        ? input.inactivityMinutes
        : Math.min(input.inactivityMinutes, Math.max(FLOOR_QUIET_MIN, Math.round(base.quietMin * 1.5) + tol));
    if (quiet >= limit) out.push({ reason: 'no_movement', detail: { quietMinutes: Math.floor(quiet), limitMinutes: limit } });
  }

  // Not in bed by the usual bedtime (evening until the end of the night), with a bed sensor only.
  if (a.inBed === false) {
    const bedBy = Math.min(fromNoon(hhmm(s.inBedBy)), base.bedAtMin === null ? Number.POSITIVE_INFINITY : base.bedAtMin + tol);
    const sinceNoon = fromNoon(nowMin);
    const deadlineAt = Date.parse(now) - (sinceNoon - bedBy) * 60_000;
    const outSince = a.bedChangedAt === null ? Number.NEGATIVE_INFINITY : Date.parse(a.bedChangedAt);
    // A resident who went to bed and got up again is the bed-exit rule's, not this one's.
    if (sinceNoon >= bedBy && sinceNoon < fromNoon(nightEnd) && outSince <= deadlineAt) {
      out.push({
        reason: 'not_in_bed',
        detail: {
          deadline: clock((bedBy + 720) % 1440),
          ...(base.bedAtMin !== null ? { usual: clock((base.bedAtMin + 720) % 1440) } : {}),
        },
      });
    }
  }

  return out;
}

function clock(min: number): string {
  const m = ((Math.round(min) % 1440) + 1440) % 1440;
  return `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
}

/** What one observation changes in a day's summary (the recorder stores the result). */
export function summariseObservation(
  day: DaySummary,
  before: ActivityNow,
  obs: {
    at: string;
    localMin: number;
    motion: boolean;
    inBed: boolean | null;
    leftRoomAfterMin: number | null;
    daytime: boolean;
    /** Minutes since the night ended (local): the quiet of the night is not a daytime quiet. */
    minutesIntoDay: number;
  },
): DaySummary {
  const next = { ...day };
  if (obs.motion && next.upAtMin === null && obs.localMin >= DAY_STARTS_AT_MIN && obs.localMin < 18 * 60 && obs.inBed !== true) {
    next.upAtMin = obs.localMin;
  }
  if (obs.inBed === true && before.inBed !== true && next.bedAtMin === null && fromNoon(obs.localMin) >= 6 * 60) {
    // Going to bed from 18:00 on counts as that evening's bedtime.
    next.bedAtMin = fromNoon(obs.localMin);
  }
  if (obs.motion && obs.daytime && before.lastMotionAt !== null) {
    const gap = Math.floor(Math.min(minutesBetween(before.lastMotionAt, obs.at), obs.minutesIntoDay));
    if (gap > next.longestQuietMin && gap < 24 * 60) next.longestQuietMin = gap;
  }
  if (obs.leftRoomAfterMin !== null && obs.leftRoomAfterMin > next.longestBathMin) next.longestBathMin = Math.floor(obs.leftRoomAfterMin);
  return next;
}

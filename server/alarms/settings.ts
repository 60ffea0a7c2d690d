// Per-resident alarm settings (DESIGN.md 3.8) with their defaults.
import Type, { type Static } from 'typebox';
import { Compile } from 'typebox/compile';
import { HomeZone } from './home-zone.ts';
import { DEFAULT_CLEAR_AFTER_SECONDS } from './vitals.ts';

const HHMM = Type.String({ pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$' });
const Limit = Type.Object(
  {
    min: Type.Optional(Type.Number()),
    max: Type.Optional(Type.Number()),
    sustainSeconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 86400 })),
  },
  { additionalProperties: false },
);

const DailyLivingSettings = Type.Object(
  {
    /** Off: none of the four welfare checks is made for this resident. */
    enabled: Type.Optional(Type.Boolean()),
    /** Latest time to be up; the resident's own usual time (plus tolerance) when that is earlier. */
    upBy: Type.Optional(HHMM),
    /** Latest time to be back in bed at night (needs a bed sensor); likewise tightened by the baseline. */
    inBedBy: Type.Optional(HHMM),
    /** Longest bathroom stay before a welfare check; the baseline may shorten it. */
    bathroomMinutes: Type.Optional(Type.Integer({ minimum: 5, maximum: 600 })),
    /** Added to the resident's usual times and durations before they count as unusual. */
    toleranceMinutes: Type.Optional(Type.Integer({ minimum: 0, maximum: 600 })),
  },
  { additionalProperties: false },
);

export const ResidentSettings = Type.Object(
  {
    nightWindow: Type.Optional(Type.Object({ start: HHMM, end: HHMM }, { additionalProperties: false })),
    wanderRisk: Type.Optional(Type.Boolean()),
    bedExitReturnMinutes: Type.Optional(Type.Integer({ minimum: 1, maximum: 240 })),
    inactivityMinutes: Type.Optional(Type.Integer({ minimum: 5, maximum: 2880 })),
    /** Where the resident lives, for GPS watches: leaving it at night is a `wander` alarm (geofence.ts). */
    homeZone: Type.Optional(HomeZone),
    vitals: Type.Optional(Type.Record(Type.String({ pattern: '^[a-z_]{1,32}$' }), Limit)),
    /** Readings back inside the limits this long clear an unacknowledged vitals alarm. */
    vitalsClearAfterSeconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 86400 })),
    /** The 24-hour watch from presence, bed and door data (daily-living.ts). */
    dailyLiving: Type.Optional(DailyLivingSettings),
    /**
     * Seconds to wait before a medium or low alarm is raised, so a cause that ends by itself (a
     * quick bed return) raises nothing. High-priority alarms are never delayed.
     */
    confirmDelaySeconds: Type.Optional(
      Type.Object(
        {
          bed_exit: Type.Optional(Type.Integer({ minimum: 0, maximum: 600 })),
          inactivity: Type.Optional(Type.Integer({ minimum: 0, maximum: 600 })),
          vitals: Type.Optional(Type.Integer({ minimum: 0, maximum: 600 })),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export type ResidentSettings = Static<typeof ResidentSettings>;
export const checkSettings = Compile(ResidentSettings);

export const DEFAULT_SETTINGS = {
  nightWindow: { start: '22:00', end: '06:00' },
  wanderRisk: false,
  bedExitReturnMinutes: 10,
  inactivityMinutes: 240,
  vitalsClearAfterSeconds: DEFAULT_CLEAR_AFTER_SECONDS,
  dailyLiving: { enabled: true, upBy: '10:00', inBedBy: '23:30', bathroomMinutes: 60, toleranceMinutes: 60 },
} as const;

export function effectiveSettings(stored: Record<string, unknown> | undefined) {
  const s = (stored && checkSettings.Check(stored) ? stored : {}) as ResidentSettings;
  return {
    nightWindow: s.nightWindow ?? DEFAULT_SETTINGS.nightWindow,
    wanderRisk: s.wanderRisk ?? DEFAULT_SETTINGS.wanderRisk,
    bedExitReturnMinutes: s.bedExitReturnMinutes ?? DEFAULT_SETTINGS.bedExitReturnMinutes,
    inactivityMinutes: s.inactivityMinutes ?? DEFAULT_SETTINGS.inactivityMinutes,
    vitals: s.vitals ?? {},
    homeZone: s.homeZone ?? null,
    confirmDelaySeconds: (s.confirmDelaySeconds ?? {}) as Partial<Record<string, number>>,
    vitalsClearAfterSeconds: s.vitalsClearAfterSeconds ?? DEFAULT_SETTINGS.vitalsClearAfterSeconds,
    dailyLiving: { ...DEFAULT_SETTINGS.dailyLiving, ...s.dailyLiving },
  };
}
export type EffectiveSettings = ReturnType<typeof effectiveSettings>;

const minutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/** Minutes since local midnight of `iso` in `timeZone`. */
export function localMinutes(iso: string, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone,
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(new Date(iso));
  const h = Number(parts.find((p) => p.type === 'hour')?.value ?? 0);
  const m = Number(parts.find((p) => p.type === 'minute')?.value ?? 0);
  return h * 60 + m;
}

/** Whether `iso` falls inside a night window that may wrap past midnight (22:00-06:00). */
export function insideWindow(iso: string, timeZone: string, window: { start: string; end: string }): boolean {
  const t = localMinutes(iso, timeZone);
  const start = minutes(window.start);
  const end = minutes(window.end);
  return start <= end ? t >= start && t < end : t >= start || t < end;
}

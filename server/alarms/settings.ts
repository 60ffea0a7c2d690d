// Per-resident alarm settings (DESIGN.md 3.8) with their defaults.
import Type, { type Static } from 'typebox';
import { Compile } from 'typebox/compile';

const HHMM = Type.String({ pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$' });
const Limit = Type.Object(
  {
    min: Type.Optional(Type.Number()),
    max: Type.Optional(Type.Number()),
    sustainSeconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 86400 })),
  },
  { additionalProperties: false },
);

export const ResidentSettings = Type.Object(
  {
    nightWindow: Type.Optional(Type.Object({ start: HHMM, end: HHMM }, { additionalProperties: false })),
    wanderRisk: Type.Optional(Type.Boolean()),
    bedExitReturnMinutes: Type.Optional(Type.Integer({ minimum: 1, maximum: 240 })),
    inactivityMinutes: Type.Optional(Type.Integer({ minimum: 5, maximum: 2880 })),
    vitals: Type.Optional(Type.Record(Type.String({ pattern: '^[a-z_]{1,32}$' }), Limit)),
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
} as const;

export function effectiveSettings(stored: Record<string, unknown> | undefined) {
  const s = (stored && checkSettings.Check(stored) ? stored : {}) as ResidentSettings;
  return {
    nightWindow: s.nightWindow ?? DEFAULT_SETTINGS.nightWindow,
    wanderRisk: s.wanderRisk ?? DEFAULT_SETTINGS.wanderRisk,
    bedExitReturnMinutes: s.bedExitReturnMinutes ?? DEFAULT_SETTINGS.bedExitReturnMinutes,
    inactivityMinutes: s.inactivityMinutes ?? DEFAULT_SETTINGS.inactivityMinutes,
    vitals: s.vitals ?? {},
    confirmDelaySeconds: (s.confirmDelaySeconds ?? {}) as Partial<Record<string, number>>,
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

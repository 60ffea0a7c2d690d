// Alarm rules of DESIGN.md section 4 for device events: a pure function from an event and its
// context to alarm requests. Rules only request; the engine owns lifecycle and de-duplication.
import type { AlarmType, DeviceEvent, Priority } from '../../protocol/index.ts';
import { type EffectiveSettings, insideWindow } from './settings.ts';

export type AlarmRequest =
  | {
      kind: 'raise';
      type: AlarmType;
      priority: Priority;
      /** Becomes high priority if still active this long after it was raised (bed exit, no return). */
      upgradeAfterMs?: number;
      /** Raised only if the cause has not ended within this time (never for high priority). */
      confirmAfterMs?: number;
      detail?: Record<string, unknown>;
      /** Shown on the alarm card (the daily-living checks put their reason here). */
      note?: string;
    }
  | { kind: 'clear'; type: AlarmType; onlyIfUnacknowledged: boolean; detail?: Record<string, unknown> };

export interface EventContext {
  event: DeviceEvent;
  timezone: string;
  /** null when the device is unregistered or not assigned to a resident. */
  settings: EffectiveSettings | null;
  settingsDefaults: EffectiveSettings;
}

export function evaluateEvent(ctx: EventContext): AlarmRequest[] {
  const requests = evaluateRules(ctx);
  const delays = ctx.settings?.confirmDelaySeconds ?? {};
  return requests.map((r) =>
    r.kind === 'raise' && r.priority !== 'high' && (delays[r.type] ?? 0) > 0
      ? { ...r, confirmAfterMs: (delays[r.type] as number) * 1000 }
      : r,
  );
}

function evaluateRules(ctx: EventContext): AlarmRequest[] {
  const { event } = ctx;
  // A config gap never hides an alarm: without a resident, judge by the defaults.
  const settings = ctx.settings ?? ctx.settingsDefaults;
  const atNight = () => insideWindow(event.ts, ctx.timezone, settings.nightWindow);
  switch (event.type) {
    case 'call':
      return [{ kind: 'raise', type: 'call', priority: 'high' }];
    case 'fall':
      return [{ kind: 'raise', type: 'fall', priority: 'high' }];
    case 'call_cancel':
      return [{ kind: 'clear', type: 'call', onlyIfUnacknowledged: true }];
    case 'bed_exit':
      // No resident means no known night window: raise rather than guess it is daytime.
      return ctx.settings === null || atNight()
        ? [{ kind: 'raise', type: 'bed_exit', priority: 'medium', upgradeAfterMs: settings.bedExitReturnMinutes * 60_000 }]
        : [];
    case 'bed_return':
      return [{ kind: 'clear', type: 'bed_exit', onlyIfUnacknowledged: true }];
    case 'door_open': {
      const atRisk = ctx.settings === null || settings.wanderRisk;
      return atRisk && atNight() ? [{ kind: 'raise', type: 'wander', priority: 'high' }] : [];
    }
    case 'no_motion': {
      const reported = Number((event.data as { minutes?: unknown } | undefined)?.minutes);
      const beyond = !Number.isFinite(reported) || reported >= settings.inactivityMinutes;
      return beyond ? [{ kind: 'raise', type: 'inactivity', priority: 'medium' }] : [];
    }
    // Home safety: fire, gas or water is a danger to the resident now, whatever the hour.
    case 'smoke':
    case 'gas':
    case 'water_leak':
      return [{ kind: 'raise', type: event.type, priority: 'high' }];
    case 'low_battery':
    case 'tamper':
    case 'device_fault':
      return [{ kind: 'raise', type: event.type, priority: 'low' }];
    case 'door_close':
    case 'presence':
    case 'sleep_state':
      return [];
  }
}

const RANK: Record<Priority, number> = { high: 0, medium: 1, low: 2 };
export const higherPriority = (a: Priority, b: Priority): Priority => (RANK[a] <= RANK[b] ? a : b);

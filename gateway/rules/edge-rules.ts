// Edge rules that must work without the server: a bed exit inside the night window with no
// return within N minutes is raised again as "no return" (the server counts the repeat and the
// local page shows it as high), and a radar fall followed by no movement is reported as confirmed.
// Timers come from the injected clock.
import type { Clock, EventType } from '../../protocol/index.ts';

export interface EdgeRulesConfig {
  nightWindow: { start: string; end: string };
  timezone: string;
  bedExitReturnMinutes: number;
  fallConfirmSeconds: number;
}

export const DEFAULT_EDGE_RULES: EdgeRulesConfig = {
  nightWindow: { start: '22:00', end: '06:00' },
  timezone: Intl.DateTimeFormat().resolvedOptions().timeZone,
  bedExitReturnMinutes: 10,
  fallConfirmSeconds: 30,
};

export type Emit = (e: { device: string; type: EventType; data?: Record<string, unknown> }) => void;

const minutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

export function atNight(ms: number, cfg: Pick<EdgeRulesConfig, 'nightWindow' | 'timezone'>): boolean {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone: cfg.timezone,
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(new Date(ms));
  const t = Number(parts.find((p) => p.type === 'hour')?.value) * 60 + Number(parts.find((p) => p.type === 'minute')?.value);
  const start = minutes(cfg.nightWindow.start);
  const end = minutes(cfg.nightWindow.end);
  return start <= end ? t >= start && t < end : t >= start || t < end;
}

export function createEdgeRules(cfg: EdgeRulesConfig, clock: Clock, emit: Emit) {
  const bedTimers = new Map<string, { cancel(): void }>();
  const fallWatch = new Map<string, { timer: { cancel(): void }; moved: boolean }>();

  return {
    /** Every accepted event passes here after it is in the outbox. */
    onEvent(e: { device: string; type: EventType; data?: Record<string, unknown>; ts?: string }) {
      const at = e.ts ? Date.parse(e.ts) : clock.now();
      if (e.type === 'bed_exit' && !e.data?.noReturnMinutes && atNight(at, cfg)) {
        bedTimers.get(e.device)?.cancel();
        bedTimers.set(
          e.device,
          clock.setTimeout(() => {
            bedTimers.delete(e.device);
            emit({ device: e.device, type: 'bed_exit', data: { noReturnMinutes: cfg.bedExitReturnMinutes } });
          }, cfg.bedExitReturnMinutes * 60_000),
        );
      } else if (e.type === 'bed_return') {
        bedTimers.get(e.device)?.cancel();
        bedTimers.delete(e.device);
      } else if (e.type === 'fall' && !e.data?.confirmed) {
        fallWatch.get(e.device)?.timer.cancel();
        const watch = {
          moved: false,
          timer: clock.setTimeout(() => {
            fallWatch.delete(e.device);
            if (!watch.moved) emit({ device: e.device, type: 'fall', data: { confirmed: true, stillForSeconds: cfg.fallConfirmSeconds } });
          }, cfg.fallConfirmSeconds * 1000),
        };
        fallWatch.set(e.device, watch);
      }
    },
    onMotion(device: string, moving: boolean) {
      const w = fallWatch.get(device);
      if (w && moving) w.moved = true;
    },
    stop() {
      for (const t of bedTimers.values()) t.cancel();
      for (const w of fallWatch.values()) w.timer.cancel();
      bedTimers.clear();
      fallWatch.clear();
    },
  };
}
export type EdgeRules = ReturnType<typeof createEdgeRules>;

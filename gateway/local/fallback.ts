// Local fallback (DESIGN.md section 7, item 6): when the uplink has been down longer than a set
// time, the gateway raises alarms itself, on a local page and a serial output line, so nobody
// depends on the server being reachable. Everything is still delivered once the link is back;
// local alarms stay until acknowledged here or by the server (its `alarm_ack` for the device).
// An event the outbox could not store is raised here at once, whatever the link's state.
import type { Clock, EventType, Priority } from '../../protocol/index.ts';
import { atNight, type EdgeRulesConfig } from '../rules/edge-rules.ts';

export interface LocalAlarm {
  id: string;
  device: string;
  type: EventType;
  priority: Priority;
  at: string;
  count: number;
  acknowledged: boolean;
}

/** Which events are worth a local alarm, and how urgent (DESIGN.md section 4). */
export function localPriority(
  e: { type: EventType; data?: Record<string, unknown>; ts?: string },
  rules: Pick<EdgeRulesConfig, 'nightWindow' | 'timezone'>,
  nowMs: number,
): Priority | null {
  const night = () => atNight(e.ts ? Date.parse(e.ts) : nowMs, rules);
  switch (e.type) {
    case 'call':
    case 'fall':
    case 'smoke':
    case 'gas':
    case 'water_leak':
      return 'high';
    case 'bed_exit':
      if (e.data?.noReturnMinutes) return 'high';
      return night() ? 'medium' : null;
    case 'door_open':
      return night() ? 'high' : null;
    case 'no_motion':
      return 'medium';
    default:
      return null;
  }
}

export interface FallbackOptions {
  afterSeconds: number;
  maxAlarms: number;
}

export function createFallback(
  opts: FallbackOptions,
  rules: Pick<EdgeRulesConfig, 'nightWindow' | 'timezone'>,
  clock: Clock,
  onChange: (alarms: LocalAlarm[]) => void,
) {
  let downSince: number | null = clock.now();
  let active = false;
  let timer: { cancel(): void } | null = null;
  let counter = 0;
  let storeFault = false;
  const alarms: LocalAlarm[] = [];
  /** Alarm-worthy events accepted while the link was down, raised when fallback starts. */
  const held: Array<{ device: string; type: EventType; priority: Priority; at: string }> = [];

  function raise(x: { device: string; type: EventType; priority: Priority; at: string }) {
    const open = alarms.find((a) => !a.acknowledged && a.device === x.device && a.type === x.type);
    if (open) {
      open.count += 1;
      if (x.priority === 'high') open.priority = 'high';
    } else {
      counter += 1;
      alarms.unshift({ id: `local-${counter}`, ...x, count: 1, acknowledged: false });
      if (alarms.length > opts.maxAlarms) alarms.splice(opts.maxAlarms);
    }
    onChange(list());
  }

  const list = () => alarms.filter((a) => !a.acknowledged);

  function startFallback() {
    timer = null;
    active = true;
    for (const h of held.splice(0)) raise(h);
    onChange(list());
  }

  return {
    /** The uplink went down or came back. */
    uplink(connected: boolean) {
      timer?.cancel();
      timer = null;
      if (connected) {
        downSince = null;
        active = false;
        held.length = 0;
        onChange(list());
        return;
      }
      downSince ??= clock.now();
      timer = clock.setTimeout(startFallback, Math.max(0, opts.afterSeconds * 1000 - (clock.now() - downSince)));
    },
    /** An event the gateway accepted (it is in the outbox). */
    onEvent(e: { device: string; type: EventType; data?: Record<string, unknown>; ts?: string }) {
      const priority = localPriority(e, rules, clock.now());
      if (!priority) return;
      const x = { device: e.device, type: e.type, priority, at: e.ts ?? clock.iso() };
      if (active) raise(x);
      else if (downSince !== null) {
        held.push(x);
        if (held.length > opts.maxAlarms) held.shift();
      }
    },
    /** An alarm-worthy event that is not durable (the outbox could not take it): raised at once. */
    raiseNow(e: { device: string; type: EventType; data?: Record<string, unknown>; ts?: string }) {
      const priority = localPriority(e, rules, clock.now());
      if (priority) raise({ device: e.device, type: e.type, priority, at: e.ts ?? clock.iso() });
    },
    /** The outbox became unwritable or writable again (shown on the local page). */
    outboxWritable(writable: boolean) {
      storeFault = !writable;
    },
    get storeFault() {
      return storeFault;
    },
    acknowledge(id: string): boolean {
      const a = alarms.find((x) => x.id === id && !x.acknowledged);
      if (!a) return false;
      a.acknowledged = true;
      onChange(list());
      return true;
    },
    /** The server acknowledged or resolved an alarm of this device. */
    serverAcknowledged(device: string | null) {
      let changed = false;
      for (const a of alarms) {
        if (!a.acknowledged && a.device === device) {
          a.acknowledged = true;
          changed = true;
        }
      }
      if (changed) onChange(list());
    },
    get active() {
      return active;
    },
    list,
    stop() {
      timer?.cancel();
    },
  };
}
export type Fallback = ReturnType<typeof createFallback>;

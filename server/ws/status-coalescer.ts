// Device status on the screens: a change (state, battery) goes out at once; a device merely heard
// again in the same state is passed on at most once per interval. Every event from a registered
// device refreshes its last-seen time, and sending that to every screen per event doubled the
// screens' traffic at 1,000 calls/s (a status message behind each alarm, 15 % of the main thread in
// the bench) for a "last seen" the screen shows to the minute. Gateway statuses always pass.
import type { DeviceStatusUpdate } from '../ingest/ingest.ts';

export interface StatusCoalescerOptions {
  /** The longest a screen's "last seen" lags a device heard again in the same state [30 s]. */
  intervalMs?: number;
  /** Devices remembered (oldest forgotten first; a forgotten device's next status passes) [100,000]. */
  maxDevices?: number;
  now: () => number;
  publish: (u: DeviceStatusUpdate) => void;
}

export function createStatusCoalescer({ intervalMs = 30_000, maxDevices = 100_000, now, publish }: StatusCoalescerOptions) {
  const last = new Map<string, { at: number; state: string; battery: number | null }>();
  let held = 0;
  return {
    /** Statuses not passed on because nothing but the last-seen time changed (for tests and metrics). */
    get held() {
      return held;
    },
    push(u: DeviceStatusUpdate) {
      if (u.deviceId === null) {
        publish(u);
        return;
      }
      const key = `${u.gatewayId}\u0000${u.deviceId}`;
      const prev = last.get(key);
      const t = now();
      if (prev && prev.state === u.state && prev.battery === u.battery && t - prev.at < intervalMs) {
        held += 1;
        return;
      }
      last.delete(key); // re-inserted last: the Map's order is then least recently passed first
      last.set(key, { at: t, state: u.state, battery: u.battery });
      if (last.size > maxDevices) {
        const oldest = last.keys().next().value;
        if (oldest !== undefined) last.delete(oldest);
      }
      publish(u);
    },
  };
}

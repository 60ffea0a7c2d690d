// What every device adapter gets and gives: it turns bytes into canonical events and readings and
// reports faults through a sink; it does nothing before `start`.
import type { EventType, Metric } from '../../protocol/index.ts';

export interface AdapterSink {
  event(e: { device: string; type: EventType; data?: Record<string, unknown>; ts?: string }): void;
  reading(r: { device: string; metric: Metric; value: number; ts?: string }): void;
  /** Any valid frame or message: refreshes the device's last-seen time. */
  seen(device: string, info?: { battery?: number }): void;
  /** A port or device is failing; the sink raises `device_fault` once per episode. */
  fault(device: string, message: string): void;
  recovered(device: string): void;
  /** Bad input that was dropped, for counting and logging. */
  rejected(source: string, reason: string): void;
  /** A radar's motion report (moving or not), for the edge rule that confirms a fall. */
  motion?(device: string, moving: boolean): void;
}

export interface DeviceAdapter {
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

// Encoder for the NDJSON serial protocol of simple devices (DESIGN.md 3.7): one JSON object a line
// naming the device and either an event or a reading.
import type { EventType, Metric } from '../../protocol/index.ts';

export function ndjsonEvent(device: string, type: EventType, data?: Record<string, unknown>, ts?: string): string {
  return `${JSON.stringify({ device, type, ...(data ? { data } : {}), ...(ts ? { ts } : {}) })}\n`;
}

export function ndjsonReading(device: string, metric: Metric, value: number, ts?: string): string {
  return `${JSON.stringify({ device, metric, value, ...(ts ? { ts } : {}) })}\n`;
}

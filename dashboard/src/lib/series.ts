// Telemetry points -> chart series: grouped by metric, sorted by time, in uPlot's aligned form
// (x in Unix seconds). Also the time windows the resident page offers.
import type { TelemetryPoint } from '../../../protocol/api.ts';

export type { TelemetryPoint };

export const RANGES = { '1h': 3600_000, '24h': 24 * 3600_000, '7d': 7 * 24 * 3600_000 } as const;
export type RangeKey = keyof typeof RANGES;

/** The metrics charted on a resident page, in display order (battery, rssi and presence are device data). */
export const CHART_METRICS = ['heart_rate', 'resp_rate', 'spo2', 'bp_systolic', 'bp_diastolic', 'temperature', 'glucose'] as const;

export function rangeWindow(range: RangeKey, nowMs: number): { from: string; to: string } {
  return { from: new Date(nowMs - RANGES[range]).toISOString(), to: new Date(nowMs).toISOString() };
}

export function groupSeries(points: readonly TelemetryPoint[]): Map<string, [number[], number[]]> {
  const by = new Map<string, Array<[number, number]>>();
  for (const p of points) {
    const t = Date.parse(p.ts);
    if (!Number.isFinite(t) || !Number.isFinite(p.value)) continue;
    let list = by.get(p.metric);
    if (!list) {
      list = [];
      by.set(p.metric, list);
    }
    list.push([t / 1000, p.value]);
  }
  const out = new Map<string, [number[], number[]]>();
  for (const [metric, list] of by) {
    list.sort((a, b) => a[0] - b[0]);
    out.set(metric, [list.map((p) => p[0]), list.map((p) => p[1])]);
  }
  return out;
}

// Telemetry in InfluxDB 2.x / 3.x through `@influxdata/influxdb-client`: the same schema as 1.x
// (measurement per metric; tags site, device, resident; field value), line protocol with
// millisecond precision, and Flux queries with `aggregateWindow` for long ranges.
import { InfluxDB, Point, setLogger } from '@influxdata/influxdb-client';
import type { Logger } from 'pino';
import type { ChartPoint, TelemetryBackend, TelemetryPoint, TelemetryQuery } from './telemetry.ts';

export interface Influx2Config {
  url: string;
  token: string;
  org: string;
  bucket: string;
}

export function toLineProtocol(points: TelemetryPoint[]): string[] {
  return points.map((p) => {
    const point = new Point(p.metric)
      .tag('site', p.site_id)
      .tag('device', p.device_id)
      .floatField('value', p.value)
      // Milliseconds as text: used as written, matching the write API's 'ms' precision.
      .timestamp(String(Date.parse(p.ts)));
    if (p.resident_id) point.tag('resident', p.resident_id);
    return point.toLineProtocol() as string;
  });
}

const fluxString = (s: string) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

export function fluxQuery(bucket: string, q: TelemetryQuery, bucketSeconds: number | null): string {
  const lines = [
    `from(bucket: ${fluxString(bucket)})`,
    `  |> range(start: time(v: ${fluxString(q.from)}), stop: time(v: ${fluxString(q.to)}))`,
    `  |> filter(fn: (r) => r.resident == ${fluxString(q.residentId)} and r._field == "value")`,
  ];
  if (q.metric) lines.push(`  |> filter(fn: (r) => r._measurement == ${fluxString(q.metric)})`);
  if (bucketSeconds !== null) lines.push(`  |> aggregateWindow(every: ${bucketSeconds}s, fn: mean, createEmpty: false)`);
  lines.push('  |> keep(columns: ["_time", "_value", "_measurement", "device"])');
  // The newest points of each series past the limit: a chart must not lose its recent end.
  lines.push(`  |> tail(n: ${q.limit ?? 20_000})`);
  return lines.join('\n');
}

export function influx2Backend(config: Influx2Config, log?: Logger): TelemetryBackend {
  // The client logs every failed write to the console itself; the batching writer already
  // reports failures (once, then every tenth retry), so its messages go to debug.
  if (log) {
    const quiet = (message: string, err?: unknown) => log.debug({ err: (err as Error | undefined)?.message }, message);
    setLogger({ error: quiet, warn: quiet });
  }
  const client = new InfluxDB({ url: config.url, token: config.token, timeout: 10_000 });
  const write = client.getWriteApi(config.org, config.bucket, 'ms', { maxRetries: 0, batchSize: 10_000 });
  const reader = client.getQueryApi(config.org);
  return {
    name: 'influxdb-2',
    async writeBatch(points) {
      write.writeRecords(toLineProtocol(points));
      await write.flush();
    },
    async query(q, bucketSeconds) {
      const rows = await reader.collectRows<{ _time: string; _value: number; _measurement: string; device: string }>(
        fluxQuery(config.bucket, q, bucketSeconds),
      );
      return rows
        .map(
          (r): ChartPoint => ({ ts: new Date(r._time).toISOString(), metric: r._measurement, value: Number(r._value), device: r.device }),
        )
        .sort((a, b) => a.ts.localeCompare(b.ts));
    },
    async close() {
      await write.close().catch(() => undefined);
    },
  };
}

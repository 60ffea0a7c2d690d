// Telemetry in InfluxDB 1.x through the `influx` package. Schema (docs/decisions.md): one
// measurement per metric (`heart_rate`, `spo2`, ...), tags `site`, `device`, `resident`, field
// `value`, millisecond timestamps. Long ranges are served as `mean()` per time bucket.
import * as Influx from 'influx';
import { METRICS } from '../../protocol/index.ts';
import { type ChartPoint, chartValue, type TelemetryBackend, type TelemetryPoint, type TelemetryQuery } from './telemetry.ts';

export interface Influx1Config {
  url: string;
  database: string;
  username?: string;
  password?: string;
  retentionDays: number;
}

export function toInflux1Points(points: TelemetryPoint[]): Influx.IPoint[] {
  return points.map((p) => ({
    measurement: p.metric,
    tags: { site: p.site_id, device: p.device_id, ...(p.resident_id ? { resident: p.resident_id } : {}) },
    fields: { value: p.value },
    timestamp: new Date(p.ts),
  }));
}

export function influx1Query(q: TelemetryQuery, bucketSeconds: number | null): string[] {
  const metrics = q.metric ? [q.metric] : [...METRICS];
  const where = `"resident" = ${Influx.escape.stringLit(q.residentId)} AND time >= ${Influx.escape.stringLit(q.from)} AND time <= ${Influx.escape.stringLit(q.to)}`;
  return metrics.map((m) =>
    bucketSeconds === null
      ? // Newest first, so that past the limit the chart keeps its recent end (sorted again after).
        `SELECT "value", "device" FROM ${Influx.escape.quoted(m)} WHERE ${where} ORDER BY time DESC LIMIT ${q.limit ?? 20_000}`
      : `SELECT mean("value") AS "value" FROM ${Influx.escape.quoted(m)} WHERE ${where} GROUP BY time(${bucketSeconds}s), "device" fill(none)`,
  );
}

export async function influx1Backend(config: Influx1Config): Promise<TelemetryBackend> {
  const url = new URL(config.url);
  const client = new Influx.InfluxDB({
    host: url.hostname,
    port: Number(url.port || 8086),
    protocol: url.protocol === 'https:' ? 'https' : 'http',
    database: config.database,
    username: config.username ?? '',
    password: config.password ?? '',
    // Our batching writer already backs off; the pool's own long host backoff would keep a
    // restarted InfluxDB "unavailable" for up to half a minute.
    pool: {
      maxRetries: 0,
      requestTimeout: 10_000,
      backoff: {
        getDelay: () => 500,
        next() {
          return this;
        },
        reset() {
          return this;
        },
      },
    },
  });
  let prepared = false;
  // Created lazily, so a server that starts while InfluxDB is down still starts (and buffers).
  async function prepare() {
    if (prepared) return;
    const names = await client.getDatabaseNames();
    if (!names.includes(config.database)) await client.createDatabase(config.database);
    const policy = `"care_retention" ON ${Influx.escape.quoted(config.database)} DURATION ${config.retentionDays}d`;
    try {
      await client.query(`CREATE RETENTION POLICY ${policy} REPLICATION 1 DEFAULT`);
    } catch (err) {
      // CREATE is refused when the policy exists with another duration (CARE_TELEMETRY_RETENTION_DAYS
      // changed): left as is, every write would fail for good.
      if (!/already exists/.test((err as Error).message)) throw err;
      await client.query(`ALTER RETENTION POLICY ${policy} DEFAULT`);
    }
    prepared = true;
  }
  return {
    name: 'influxdb-1',
    async writeBatch(points) {
      await prepare();
      await client.writePoints(toInflux1Points(points), { precision: 'ms' });
    },
    async query(q, bucketSeconds) {
      await prepare();
      const statements = influx1Query(q, bucketSeconds);
      const metrics = q.metric ? [q.metric] : [...METRICS];
      const results = (await client.query(statements)) as unknown as Array<Array<{ time: Date; value: number; device?: string }>>;
      // One statement returns one result set; several return an array of them.
      const sets = statements.length === 1 ? [results as unknown as Array<{ time: Date; value: number; device?: string }>] : results;
      const out: ChartPoint[] = [];
      sets.forEach((rows, i) => {
        for (const r of rows ?? []) {
          if (r.value === null || r.value === undefined) continue;
          out.push({
            ts: r.time.toISOString(),
            metric: metrics[i] as string,
            value: chartValue(metrics[i] as string, Number(r.value)),
            device: String(r.device ?? ''),
          });
        }
      });
      return out.sort((a, b) => a.ts.localeCompare(b.ts));
    },
  };
}

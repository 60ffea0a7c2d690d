// Telemetry in the state database's `telemetry` table (SQLite by default; the same code on
// PostgreSQL). Long ranges are averaged per time bucket in SQL, per engine.
import { sql } from 'kysely';
import type { Db } from './registry.ts';
import type { ChartPoint, TelemetryBackend, TelemetryPoint } from './telemetry.ts';

export function sqlTelemetryBackend(db: Db, engine: 'sqlite' | 'postgres'): TelemetryBackend {
  return {
    name: engine === 'sqlite' ? 'sqlite' : 'postgres',
    async writeBatch(points: TelemetryPoint[]) {
      // SQLite caps bound parameters; 6 columns x 150 rows stays under it.
      await db.transaction().execute(async (tx) => {
        for (let i = 0; i < points.length; i += 150)
          await tx
            .insertInto('telemetry')
            .values(points.slice(i, i + 150))
            .execute();
      });
    },
    async query(q, bucketSeconds) {
      if (bucketSeconds === null) {
        let sel = db
          .selectFrom('telemetry')
          .select(['ts', 'metric', 'value', 'device_id'])
          .where('resident_id', '=', q.residentId)
          .where('ts', '>=', q.from)
          .where('ts', '<=', q.to)
          .orderBy('ts')
          .limit(q.limit ?? 20_000);
        if (q.metric) sel = sel.where('metric', '=', q.metric);
        return (await sel.execute()).map((r) => ({ ts: r.ts, metric: r.metric, value: r.value, device: r.device_id }));
      }
      const epoch =
        engine === 'sqlite' ? sql<number>`CAST(strftime('%s', ts) AS INTEGER)` : sql<number>`EXTRACT(EPOCH FROM ts::timestamptz)`;
      const bucket = sql<number>`FLOOR(${epoch} / ${bucketSeconds})`;
      let sel = db
        .selectFrom('telemetry')
        .select(['metric', 'device_id', bucket.as('bucket'), (eb) => eb.fn.avg<number>('value').as('value')])
        .where('resident_id', '=', q.residentId)
        .where('ts', '>=', q.from)
        .where('ts', '<=', q.to)
        .groupBy(['metric', 'device_id', 'bucket'])
        .orderBy('bucket')
        .limit(q.limit ?? 20_000);
      if (q.metric) sel = sel.where('metric', '=', q.metric);
      const rows = await sel.execute();
      return rows.map(
        (r): ChartPoint => ({
          ts: new Date(Number(r.bucket) * bucketSeconds * 1000).toISOString(),
          metric: r.metric,
          value: Math.round(Number(r.value) * 100) / 100,
          device: r.device_id,
        }),
      );
    },
    async prune(beforeIso) {
      const r = await db.deleteFrom('telemetry').where('ts', '<', beforeIso).executeTakeFirst();
      return Number(r.numDeletedRows);
    },
  };
}

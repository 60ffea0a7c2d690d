// Telemetry in the state database's `telemetry` table (SQLite by default; the same code on
// PostgreSQL). Long ranges are averaged per time bucket in SQL, per engine.
import { setImmediate as yieldToEvents } from 'node:timers/promises';
import { sql } from 'kysely';
import type { Db } from './registry.ts';
import { type ChartPoint, chartValue, type TelemetryBackend, type TelemetryPoint } from './telemetry.ts';

/** Rows per pruning statement on SQLite: a few milliseconds of work each. */
const PRUNE_CHUNK = 2000;

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
        // Past the limit the newest points are kept: a chart must not lose its recent end.
        let sel = db
          .selectFrom('telemetry')
          .select(['ts', 'metric', 'value', 'device_id'])
          .where('resident_id', '=', q.residentId)
          .where('ts', '>=', q.from)
          .where('ts', '<=', q.to)
          .orderBy('ts', 'desc')
          .limit(q.limit ?? 20_000);
        if (q.metric) sel = sel.where('metric', '=', q.metric);
        return (await sel.execute()).reverse().map((r) => ({ ts: r.ts, metric: r.metric, value: r.value, device: r.device_id }));
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
          value: chartValue(r.metric, Number(r.value)),
          device: r.device_id,
        }),
      );
    },
    async prune(beforeIso) {
      if (engine === 'postgres') {
        const r = await db.deleteFrom('telemetry').where('ts', '<', beforeIso).executeTakeFirst();
        return Number(r.numDeletedRows);
      }
      // SQLite runs on the event loop: one `DELETE ... WHERE ts < ?` scans the whole table (no
      // index leads with ts) and would stall alarms for seconds on a large table. Rows go in
      // insertion (rowid) order, which is about time order, a few thousand per statement with a
      // pause for other work between, until the oldest-inserted rows include one newer than the
      // cut-off. A row that arrived late (a gateway's backlog) goes at most as late as it arrived.
      let removed = 0;
      for (;;) {
        const r =
          await sql`DELETE FROM telemetry WHERE rowid IN (SELECT rowid FROM telemetry ORDER BY rowid LIMIT ${PRUNE_CHUNK}) AND ts < ${beforeIso}`.execute(
            db,
          );
        const n = Number(r.numAffectedRows ?? 0);
        removed += n;
        if (n < PRUNE_CHUNK) return removed;
        await yieldToEvents();
      }
    },
  };
}

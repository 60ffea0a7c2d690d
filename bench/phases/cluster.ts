// Two instances sharing PostgreSQL: gateways on A, screens on A and on B, so half the screens get
// each alarm across the bus: Redis (clustered embedded broker) or PostgreSQL LISTEN/NOTIFY.
// Telemetry goes to PostgreSQL here, so the load behind is lighter than on one SQLite instance.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { type Postgres, postgresBin, startPostgres } from '../../test/helpers/postgres.ts';
import { redisAvailable, startRedis } from '../../test/helpers/redis.ts';
import { alarmPhaseDevices, alarmPipelinePhase } from './alarm-pipeline.ts';
import {
  connectGateways,
  disconnectGateways,
  hearDevices,
  log,
  registerDevices,
  registerSite,
  type Settings,
  startServer,
} from './common.ts';

/** Telemetry behind the cluster runs, which store it in PostgreSQL beside two instances. */
export const CLUSTER_TELEMETRY_RATE = 2000;
/**
 * New alarms a second in the cluster runs. At 1,000/s, PostgreSQL on the same two cores as both
 * instances and the generator is the bottleneck (p50 over 500 ms on A's own screens too); 200/s,
 * itself a storm for a city, shows what the bus adds.
 */
export const CLUSTER_EVENT_RATE = Number(process.env.BENCH_CLUSTER_EVENT_RATE ?? 200);

async function clusterRun(P: Settings, kind: 'redis' | 'postgres', pgServer: Postgres) {
  if (kind === 'redis' && !redisAvailable()) return null;
  log(`cluster (${kind}): gateways on instance A, screens on A and on B`);
  // A database of its own on the shared PostgreSQL server.
  const admin = new pg.Client({ connectionString: pgServer.url });
  await admin.connect();
  await admin.query(`CREATE DATABASE bench_${kind}`);
  await admin.end();
  const redis = kind === 'redis' ? await startRedis() : null;
  const dbUrl = pgServer.url.replace(/\/care$/, `/bench_${kind}`);
  const env: Record<string, string> = { CARE_DATABASE_URL: dbUrl, ...(redis ? { CARE_REDIS_URL: redis.url } : {}) };
  const a = await startServer(fs.mkdtempSync(path.join(os.tmpdir(), 'care-bench-a-')), env, 'cluster');
  const b = await startServer(fs.mkdtempSync(path.join(os.tmpdir(), 'care-bench-b-')), env, 'cluster');
  try {
    const site = await registerSite(a, 10);
    const devices = alarmPhaseDevices(site.gateways.length, P.clusterAlarmMs, CLUSTER_EVENT_RATE);
    await registerDevices(a, site, devices);
    await connectGateways(a, site);
    await hearDevices(a, site, devices);
    // Half the screens on A, where the gateways are, half on B: the difference is the bus.
    const r = await alarmPipelinePhase(P, a, site, {
      withStorm: false,
      screensOn: [a, b],
      telemetryRate: CLUSTER_TELEMETRY_RATE,
      durationMs: P.clusterAlarmMs,
      eventRate: CLUSTER_EVENT_RATE,
    });
    disconnectGateways(site);
    const [onA, onB] = r.latency.byInstance;
    return {
      sameInstance: { p50Ms: onA?.p50Ms, p99Ms: onA?.p99Ms, maxMs: onA?.maxMs },
      otherInstance: { p50Ms: onB?.p50Ms, p99Ms: onB?.p99Ms, maxMs: onB?.maxMs },
      delivered: r.latency.delivered,
      sent: r.latency.sent,
      eventsPerSec: CLUSTER_EVENT_RATE,
      telemetryPointsPerSec: CLUSTER_TELEMETRY_RATE,
    };
  } finally {
    await a.stop();
    await b.stop();
    await redis?.stop();
  }
}

/** Both cluster runs on one PostgreSQL server; null for each when PostgreSQL (or Redis) is missing. */
export async function clusterPhase(P: Settings) {
  if (postgresBin() === null) return { redis: null, postgres: null };
  const pgServer = await startPostgres();
  try {
    return { redis: await clusterRun(P, 'redis', pgServer), postgres: await clusterRun(P, 'postgres', pgServer) };
  } finally {
    pgServer.stop();
  }
}

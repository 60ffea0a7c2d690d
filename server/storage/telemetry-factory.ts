// Picks the telemetry back end from the configuration and puts the shared batching writer in front.
// The telemetry worker builds its own back end for writing and pruning; the main thread builds one
// for chart queries (telemetry-lane.ts).
import type { Logger } from 'pino';
import type { ServerConfig } from '../config.ts';
import type { Db } from './registry.ts';
import { createBatchingTelemetry, type TelemetryBackend, type TelemetryStore } from './telemetry.ts';
import { influx1Backend } from './telemetry-influx1.ts';
import { influx2Backend } from './telemetry-influx2.ts';
import { sqlTelemetryBackend } from './telemetry-sql.ts';

export type TelemetryConfig = Pick<ServerConfig, 'influx' | 'telemetryRetentionDays'>;

export async function telemetryBackend(
  config: TelemetryConfig,
  deps: { db: Db; engine: 'sqlite' | 'postgres'; log: Logger },
): Promise<TelemetryBackend> {
  const i = config.influx;
  return i?.version === 1
    ? await influx1Backend({
        url: i.url,
        database: i.database,
        username: i.username,
        password: i.password,
        retentionDays: config.telemetryRetentionDays,
      })
    : i?.version === 2
      ? influx2Backend({ url: i.url, token: i.token, org: i.org, bucket: i.bucket }, deps.log)
      : sqlTelemetryBackend(deps.db, deps.engine);
}

/** Telemetry written on the calling thread (tools and tests; the server uses the worker lane). */
export async function createTelemetryStore(
  config: TelemetryConfig,
  deps: { db: Db; engine: 'sqlite' | 'postgres'; log: Logger; onError: () => void },
): Promise<TelemetryStore> {
  const backend = await telemetryBackend(config, deps);
  deps.log.info({ backend: backend.name }, 'telemetry store');
  return createBatchingTelemetry(backend, deps.log, deps.onError);
}

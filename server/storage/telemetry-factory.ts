// Picks the telemetry back end from the configuration and puts the shared batching writer in front.
import type { Logger } from 'pino';
import type { ServerConfig } from '../config.ts';
import type { Db } from './registry.ts';
import { createBatchingTelemetry, type TelemetryStore } from './telemetry.ts';
import { influx1Backend } from './telemetry-influx1.ts';
import { influx2Backend } from './telemetry-influx2.ts';
import { sqlTelemetryBackend } from './telemetry-sql.ts';

export async function createTelemetryStore(
  config: ServerConfig,
  deps: { db: Db; engine: 'sqlite' | 'postgres'; log: Logger; onError: () => void },
): Promise<TelemetryStore> {
  const i = config.influx;
  const backend =
    i?.version === 1
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
  deps.log.info({ backend: backend.name }, 'telemetry store');
  return createBatchingTelemetry(backend, deps.log, deps.onError);
}

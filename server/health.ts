// What /healthz and /readyz report: a real write to the state store, the age of the last
// escalation sweep and whether ingest is committing. A server that answers HTTP but cannot commit
// or escalate is not healthy, so that a supervisor restarts it and an operator is told.
import type { Logger } from 'pino';
import type { Clock } from '../protocol/index.ts';
import type { WriteProbeResult } from './storage/health.ts';

export interface HealthLimits {
  /** The escalation sweep runs every second; this long without a successful one is a failure. */
  escalationStaleMs: number;
  /** Events waiting (queued, or a commit failed) this long without a successful commit. */
  ingestStaleMs: number;
}
export const DEFAULT_HEALTH_LIMITS: HealthLimits = { escalationStaleMs: 10_000, ingestStaleMs: 30_000 };

export interface HealthReport {
  ok: boolean;
  checks: { database: boolean; escalationSweep: boolean; ingest: boolean };
  database: { writeMs: number; error?: string };
  /** Since the last successful escalation sweep (or since start, before the first). */
  escalationSweepAgeMs: number;
  /** Since the last successful event commit; null: none since start. */
  lastCommitAgeMs: number | null;
  /** How long events have waited for a commit; null: none waiting. */
  ingestWaitingMs: number | null;
}

export function createHealthMonitor(
  deps: {
    clock: Clock;
    log: Logger;
    probe: (at: string) => Promise<WriteProbeResult>;
    /** Clock ms of the last successful escalation sweep, or null. */
    lastEscalationSweep: () => number | null;
    /** Events waiting for a commit; or given to each `check` by who owns ingest. */
    ingestQueueLength?: () => number;
  },
  limits: HealthLimits = DEFAULT_HEALTH_LIMITS,
) {
  const { clock, log } = deps;
  const startedAt = clock.now();
  let lastCommitAt: number | null = null;
  /** First failed commit since the last good one: its events wait at the gateways. */
  let failingSince: number | null = null;
  /** When a health check first saw events queued (a commit that hangs never fails). */
  let queuedSince: number | null = null;
  let probeFailing = false;

  return {
    /** Ingest's commit outcome, once per batch. */
    commit(ok: boolean) {
      const t = clock.now();
      if (ok) {
        lastCommitAt = t;
        failingSince = null;
        queuedSince = null;
      } else {
        failingSince ??= t;
      }
    },
    async check(now: { ingestQueueLength?: number } = {}): Promise<HealthReport> {
      const t = clock.now();
      const write = await deps.probe(clock.iso());
      if (write.ok === probeFailing) {
        probeFailing = !write.ok;
        if (probeFailing) log.error({ err: write.cause, code: write.error }, 'health: the state store refuses a write');
        else log.info('health: the state store takes writes again');
      }
      if ((now.ingestQueueLength ?? deps.ingestQueueLength?.() ?? 0) > 0) queuedSince ??= t;
      else queuedSince = null;
      const waitingSince = Math.min(failingSince ?? Number.POSITIVE_INFINITY, queuedSince ?? Number.POSITIVE_INFINITY);
      const ingestWaitingMs = Number.isFinite(waitingSince) ? t - waitingSince : null;
      const escalationSweepAgeMs = t - (deps.lastEscalationSweep() ?? startedAt);
      const checks = {
        database: write.ok,
        escalationSweep: escalationSweepAgeMs <= limits.escalationStaleMs,
        ingest: ingestWaitingMs === null || ingestWaitingMs <= limits.ingestStaleMs,
      };
      return {
        ok: checks.database && checks.escalationSweep && checks.ingest,
        checks,
        database: { writeMs: write.ms, ...(write.error ? { error: write.error } : {}) },
        escalationSweepAgeMs,
        lastCommitAgeMs: lastCommitAt === null ? null : t - lastCommitAt,
        ingestWaitingMs,
      };
    },
  };
}
export type HealthMonitor = ReturnType<typeof createHealthMonitor>;

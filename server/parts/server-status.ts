// What /healthz, /readyz and /metrics say about this instance: the health monitor's checks (a real
// write, escalation sweeping, ingest committing) with what the other parts report.
import type { TaskFaults } from '../alarms/task-faults.ts';
import type { Channels } from '../channels/index.ts';
import type { HealthMonitor } from '../health.ts';
import type { HealthStatus } from '../http/context.ts';
import type { TelemetryLane } from '../ingest/telemetry-lane.ts';
import type { Metrics } from '../metrics.ts';
import { RESOLVED } from '../storage/alarms.ts';
import type { Db } from '../storage/registry.ts';

export interface ServerStatusDeps {
  monitor: HealthMonitor;
  ingest: { queueLength(): number };
  telemetry: Pick<TelemetryLane, 'status'>;
  channels: Pick<Channels, 'smsUp'>;
  taskFaults: Pick<TaskFaults, 'failing'>;
  cluster: { connected(): boolean };
  metrics: Metrics;
  db: Db;
  now: () => number;
}

export function createServerStatus(deps: ServerStatusDeps) {
  const { monitor, ingest, telemetry, metrics } = deps;
  let started = false;
  let stopping = false;
  /** Taking traffic: every part started and none stopping. */
  const up = () => started && !stopping;
  const smsCheck = (): Record<string, boolean> => {
    const sms = deps.channels.smsUp();
    return sms === null ? {} : { sms };
  };
  return {
    stopping: () => stopping,
    /** The last part of the list: up once every other part started, down first when stopping. */
    part: {
      name: 'status',
      start() {
        started = true;
      },
      stop() {
        stopping = true;
      },
    },
    /** Telemetry failing is shown, but the server stays healthy: alarms do not depend on it. */
    async health(): Promise<HealthStatus> {
      const { ok, checks, ...details } = await monitor.check({ ingestQueueLength: ingest.queueLength() });
      return {
        ok: up() && ok,
        // An SMSC that is down is shown too; people are still reached by Web Push meanwhile.
        checks: { broker: up(), ...checks, telemetry: telemetry.status().ok, ...smsCheck() },
        details: { ...details, failingTasks: deps.taskFaults.failing() },
      };
    },
    /** Healthy, a small ingest backlog, and with other instances, the bus up (a screen here must see their alarms). */
    async readiness(): Promise<HealthStatus> {
      const backlog = ingest.queueLength();
      const { ok: healthy, checks, ...details } = await monitor.check({ ingestQueueLength: backlog });
      const crossInstance = deps.cluster.connected();
      const ok = up() && healthy && backlog < 10_000 && crossInstance;
      return { ok, checks: { broker: up(), ...checks, ingestBacklog: backlog, bus: crossInstance }, details };
    },
    /** Brings gauges up to date just before /metrics is read. */
    async refreshMetrics() {
      metrics.ingestBacklog.set(ingest.queueLength());
      const t = telemetry.status();
      metrics.telemetryBuffered.set(t.buffered);
      metrics.telemetryStoreUp.set(t.ok ? 1 : 0);
      const since = new Date(deps.now() - 24 * 3600_000).toISOString();
      const rows = await deps.db
        .selectFrom('alarms')
        .select(['state', 'priority', (eb) => eb.fn.countAll<number>().as('n')])
        .where((eb) => eb.or([eb('state', '<>', RESOLVED), eb('resolved_at', '>=', since)]))
        .groupBy(['state', 'priority'])
        .execute();
      metrics.alarmsByState.reset();
      for (const r of rows) metrics.alarmsByState.set({ state: r.state, priority: r.priority }, Number(r.n));
    },
  };
}

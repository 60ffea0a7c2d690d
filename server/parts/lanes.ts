// The periodic work, on three lanes with their own timers. The alarm lane waits for nothing on the
// network, so a slow task elsewhere never holds an escalation back; the work lane only offers
// notification attempts to the sender; supervision reads every gateway and device, every 5 s.
import type { Logger } from 'pino';
import type { Clock, IdSource } from '../../protocol/index.ts';
import type { DailyLivingWatch } from '../alarms/daily-living-watch.ts';
import type { DeviceTests } from '../alarms/device-tests.ts';
import type { AlarmEngine } from '../alarms/engine.ts';
import type { Notifier } from '../alarms/notify.ts';
import type { Policies } from '../alarms/policies.ts';
import type { ResponseChain } from '../alarms/response-chain.ts';
import { createScheduler } from '../alarms/scheduler.ts';
import type { Shifts } from '../alarms/shifts.ts';
import type { Supervision } from '../alarms/supervision.ts';
import type { TaskFaults } from '../alarms/task-faults.ts';
import type { Channels } from '../channels/index.ts';
import type { TelemetryLane } from '../ingest/telemetry-lane.ts';
import type { Metrics } from '../metrics.ts';
import type { ResponseTokens } from '../respond/tokens.ts';
import type { AlarmStore } from '../storage/alarms.ts';
import { isStoreError } from '../storage/health.ts';

export interface LanesDeps {
  clock: Clock;
  ids: IdSource;
  log: Logger;
  metrics: Metrics;
  telemetryRetentionDays: number;
  taskFaults: TaskFaults;
  engine: AlarmEngine;
  responseChain: ResponseChain;
  dailyLiving: DailyLivingWatch;
  deviceTests: DeviceTests;
  telemetry: Pick<TelemetryLane, 'prune'>;
  responseTokens: ResponseTokens;
  notifier: Notifier;
  policies: Policies;
  alarms: AlarmStore;
  channels: Channels;
  supervision: Supervision;
  shifts: Shifts;
  /** Tells the other instances which caregivers have a screen open here. */
  publishPresence(): void;
}

export function createLanes(deps: LanesDeps) {
  const { clock, ids, log, metrics, taskFaults, engine, responseChain, dailyLiving, deviceTests, notifier, policies, alarms } = deps;
  // A scheduled task failing is counted, and three failures in a row raise a technical alarm.
  const hooks = {
    onTaskResult(name: string, ok: boolean, err?: unknown) {
      if (!ok) {
        metrics.taskFailures.inc({ task: name });
        if (isStoreError(err)) metrics.storeErrors.inc({ store: 'state' });
      }
      taskFaults.taskResult(name, ok, err);
    },
  };

  let lastLinkPurge = 0;
  let lastPrune = 0;
  let pruning: Promise<void> | null = null;
  // Hourly: readings older than the retention period go (InfluxDB expires them by policy). It runs
  // in the telemetry worker and nothing waits for it: a first prune of a large table takes minutes.
  async function pruneTelemetry() {
    if (pruning || clock.now() - lastPrune < 3600_000) return;
    lastPrune = clock.now();
    pruning = deps.telemetry
      .prune(new Date(clock.now() - deps.telemetryRetentionDays * 86_400_000).toISOString())
      .then(
        (removed) => {
          if (removed > 0) log.info({ removed }, 'old telemetry pruned');
        },
        (err: unknown) => {
          metrics.storeErrors.inc({ store: 'telemetry' });
          log.error({ err }, 'pruning old telemetry failed; tried again in an hour');
        },
      )
      .finally(() => {
        pruning = null;
      });
  }
  // Hourly: links dead for a day are deleted (they already answer 404).
  async function purgeResponseLinks() {
    if (clock.now() - lastLinkPurge < 3600_000) return;
    lastLinkPurge = clock.now();
    await deps.responseTokens.purgeExpired();
  }

  const alarmLane = createScheduler(
    clock,
    log.child({ part: 'scheduler', lane: 'alarms' }),
    [
      ['escalation', () => engine.escalateDue()],
      ['upgrades', () => engine.upgradeDue()],
      ['confirmations', () => engine.confirmDue()],
      ['response chain', () => responseChain.sweep()],
      ['daily living', () => dailyLiving.evaluate()],
    ],
    1000,
    hooks,
  );
  const workLane = createScheduler(
    clock,
    log.child({ part: 'scheduler', lane: 'work' }),
    [
      ['device tests', () => deviceTests.failDue()],
      ['scheduled device tests', () => deviceTests.runSchedules(() => `test-${ids.next().toLowerCase()}`)],
      ['telemetry retention', () => pruneTelemetry()],
      ['response links', () => purgeResponseLinks()],
      ['notification retries', () => notifier.retryDue(async (alarmId) => policies.get((await alarms.get(alarmId))?.siteId ?? null))],
      // Cloud SMS delivery reports, pulled: at most every 10 s, within 3 s (server/channels/cloud-receipts.ts).
      ['sms receipts', () => deps.channels.pollSmsReceipts()],
    ],
    1000,
    hooks,
  );
  const supervisionLane = createScheduler(
    clock,
    log.child({ part: 'scheduler' }),
    [
      ['supervision', () => deps.supervision.sweep()],
      ['screens open', async () => deps.publishPresence()],
      ['shift coverage', () => deps.shifts.checkCoverage()],
    ],
    5000,
    hooks,
  );

  let startedAt: number | null = null;
  return {
    /** When the last escalation sweep ran; before the first, when the lanes started (null: not yet). */
    lastEscalationSweep: () => alarmLane.lastRunAt('escalation') ?? startedAt,
    /** Runs the periodic work now (tests with a fake clock). */
    async tick() {
      await alarmLane.tick();
      await workLane.tick();
      await supervisionLane.tick();
    },
    part: {
      name: 'lanes',
      start() {
        startedAt = clock.now();
        alarmLane.start();
        workLane.start();
        supervisionLane.start();
      },
      async stop() {
        await alarmLane.stop();
        await workLane.stop();
        await supervisionLane.stop();
        await taskFaults.settle();
      },
    },
  };
}

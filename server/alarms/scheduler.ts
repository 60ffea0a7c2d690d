// Runs periodic work on the injected clock, so tests drive it with a fake clock and `tick()`. The
// server builds several, one per lane: the alarm lane (escalation, upgrades, confirmation delays)
// shares its timer with nothing that waits on the network, so a slow task elsewhere never holds an
// escalation back.
import type { Logger } from 'pino';
import type { Clock } from '../../protocol/index.ts';

export interface SchedulerOptions {
  /** Told after every task run: for health checks and a technical alarm on repeated failures. */
  onTaskResult?(name: string, ok: boolean, err?: unknown): void;
}

export function createScheduler(
  clock: Clock,
  log: Logger,
  tasks: Array<[string, () => Promise<unknown>]>,
  intervalMs = 1000,
  options: SchedulerOptions = {},
) {
  let timer: { cancel(): void } | null = null;
  let running: Promise<void> | null = null;
  let stopped = false;
  let lastRun: number | null = null;
  const lastOk = new Map<string, number>();

  function report(name: string, ok: boolean, err?: unknown) {
    try {
      options.onTaskResult?.(name, ok, err);
    } catch (hookErr) {
      log.error({ err: hookErr, task: name }, 'scheduler result hook failed');
    }
  }

  /** Runs every task now; if a run is under way, waits for it and runs again. */
  async function tick(): Promise<void> {
    while (running) await running;
    running = (async () => {
      for (const [name, task] of tasks) {
        try {
          await task();
          lastOk.set(name, clock.now());
          report(name, true);
        } catch (err) {
          log.error({ err, task: name }, 'scheduled alarm task failed');
          report(name, false, err);
        }
      }
      lastRun = clock.now();
    })().finally(() => {
      running = null;
    });
    return running;
  }

  function schedule() {
    if (stopped) return;
    timer = clock.setTimeout(() => {
      void tick().finally(schedule);
    }, intervalMs);
  }

  return {
    start: schedule,
    tick,
    /**
     * When (clock ms) the last run of all tasks ended, failed tasks included; with a task's name,
     * when that task last succeeded. `null` if never.
     */
    lastRunAt(name?: string): number | null {
      return name === undefined ? lastRun : (lastOk.get(name) ?? null);
    },
    async stop() {
      stopped = true;
      timer?.cancel();
      if (running) await running;
    },
  };
}
export type Scheduler = ReturnType<typeof createScheduler>;

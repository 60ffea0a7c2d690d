// Runs the periodic alarm work (escalation, upgrades, supervision, notification retries) on the
// injected clock, so tests drive it with a fake clock and `tick()`.
import type { Logger } from 'pino';
import type { Clock } from '../../protocol/index.ts';

export function createScheduler(clock: Clock, log: Logger, tasks: Array<[string, () => Promise<unknown>]>, intervalMs = 1000) {
  let timer: { cancel(): void } | null = null;
  let running: Promise<void> | null = null;
  let stopped = false;

  /** Runs every task now; if a run is under way, waits for it and runs again. */
  async function tick(): Promise<void> {
    while (running) await running;
    running = (async () => {
      for (const [name, task] of tasks) {
        try {
          await task();
        } catch (err) {
          log.error({ err, task: name }, 'scheduled alarm task failed');
        }
      }
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
    async stop() {
      stopped = true;
      timer?.cancel();
      if (running) await running;
    },
  };
}

// A scheduled task (escalation, supervision, retries...) that keeps failing is itself an alarm:
// after three failures in a row a technical `device_fault` on the device `server:<task>` is
// raised (no site, so every administrator's screen shows it); the next success clears it.
import type { Logger } from 'pino';
import type { Db } from '../storage/registry.ts';
import type { AlarmEngine, AlarmSubject } from './engine.ts';

export const TASK_FAILURES_BEFORE_ALARM = 3;
/** Still failing: raised again (a repeat, or anew if someone resolved it or another instance cleared it). */
const RAISE_AGAIN_EVERY = 60;

export const taskDeviceId = (task: string) => `server:${task.trim().replace(/\s+/g, '-')}`;

export function createTaskFaults(deps: { db: Db; engine: AlarmEngine; now: () => string; log: Logger }) {
  const { db, engine, now, log } = deps;
  const state = new Map<string, { failures: number; alarmed: boolean | 'unknown'; lastError: string }>();
  /** Raising and clearing run one at a time per task, in the order the results came. */
  const queues = new Map<string, Promise<void>>();

  const subject = (task: string): AlarmSubject => ({
    siteId: null,
    gatewayId: null,
    deviceId: taskDeviceId(task),
    residentId: null,
    room: null,
    unregistered: false,
    at: now(),
  });

  async function raise(task: string, failures: number, error: string) {
    const changed = await db.transaction().execute((tx) =>
      engine.apply(
        tx,
        // High: a task that stops escalating or supervising stops the promise of the whole product.
        [{ kind: 'raise', type: 'device_fault', priority: 'high', detail: { reason: 'server_task_failing', task, failures, error } }],
        subject(task),
        'system',
      ),
    );
    await engine.publish(changed);
  }

  async function clear(task: string) {
    const changed = await db
      .transaction()
      .execute((tx) =>
        engine.apply(
          tx,
          [{ kind: 'clear', type: 'device_fault', onlyIfUnacknowledged: false, detail: { note: `${task} runs again` } }],
          subject(task),
          'system',
        ),
      );
    await engine.publish(changed);
  }

  function enqueue(task: string, work: () => Promise<void>) {
    const next = (queues.get(task) ?? Promise.resolve()).then(work).catch((err: unknown) => {
      // The store may be what fails (a full disk): tried again on the task's next result.
      log.error({ err, task }, 'raising or clearing the alarm of a failing server task failed');
    });
    queues.set(task, next);
  }

  return {
    /** A scheduled task's result (the scheduler's `onTaskResult`). */
    taskResult(task: string, ok: boolean, err?: unknown) {
      // After a restart an alarm from before may be open: the first success clears it.
      const s = state.get(task) ?? { failures: 0, alarmed: 'unknown' as const, lastError: '' };
      state.set(task, s);
      if (ok) {
        s.failures = 0;
        if (s.alarmed !== false) {
          enqueue(task, async () => {
            await clear(task);
            s.alarmed = false;
          });
        }
        return;
      }
      s.failures += 1;
      const code = (err as { code?: unknown } | undefined)?.code;
      s.lastError = typeof code === 'string' ? code : String((err as Error | undefined)?.message ?? err).slice(0, 200);
      const again = s.alarmed === true && (s.failures - TASK_FAILURES_BEFORE_ALARM) % RAISE_AGAIN_EVERY === 0;
      if (s.failures >= TASK_FAILURES_BEFORE_ALARM && (s.alarmed !== true || again)) {
        const failures = s.failures;
        const error = s.lastError;
        enqueue(task, async () => {
          if (s.failures === 0) return; // it succeeded meanwhile
          await raise(task, failures, error);
          s.alarmed = true;
        });
      }
    },
    /** Tasks failing now, with how many times in a row. */
    failing(): Array<{ task: string; failures: number }> {
      return [...state].filter(([, s]) => s.failures > 0).map(([task, s]) => ({ task, failures: s.failures }));
    },
    /** Waits for alarms being raised or cleared (shutdown, tests). */
    async settle(): Promise<void> {
      await Promise.all(queues.values());
    },
  };
}
export type TaskFaults = ReturnType<typeof createTaskFaults>;

// A test-only pause between the receipt of a batch of events and its commit, so a fault test can
// `kill -9` the server inside that window on purpose rather than by chance (test/faults/kill.test.ts).
// Honoured only with NODE_ENV=test; set anywhere else, the server refuses to start.
import type { Logger } from 'pino';

export const TEST_PAUSE_ENV = 'CARE_TEST_PAUSE_BEFORE_COMMIT_MS';

export type PauseBeforeCommit = (eventIds: string[]) => Promise<void>;

/** The pause to run before each commit, or null (always, outside tests). Throws if it is set outside tests. */
export function testPauseBeforeCommit(log: Logger, env: NodeJS.ProcessEnv = process.env): PauseBeforeCommit | null {
  const raw = env[TEST_PAUSE_ENV];
  if (raw === undefined || raw === '') return null;
  if (env.NODE_ENV !== 'test') throw new Error(`${TEST_PAUSE_ENV} is for tests only and is refused unless NODE_ENV=test`);
  const ms = Number(raw);
  if (!Number.isInteger(ms) || ms <= 0) throw new Error(`${TEST_PAUSE_ENV} must be a whole number of milliseconds above 0`);
  return async (eventIds) => {
    // The test waits for this line, then kills the server: these events are received, not committed.
    log.warn({ events: eventIds, ms }, 'test pause before commit');
    await new Promise((resolve) => setTimeout(resolve, ms));
  };
}

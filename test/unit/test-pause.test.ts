// The test-only pause before a commit cannot be switched on outside tests.
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { TEST_PAUSE_ENV, testPauseBeforeCommit } from '../../server/ingest/test-pause.ts';

const log = pino({ level: 'silent' });

describe('CARE_TEST_PAUSE_BEFORE_COMMIT_MS', () => {
  it('is refused unless NODE_ENV=test, so a server with it set does not start', () => {
    expect(() => testPauseBeforeCommit(log, { [TEST_PAUSE_ENV]: '1000', NODE_ENV: 'production' })).toThrow(/tests only/);
    expect(() => testPauseBeforeCommit(log, { [TEST_PAUSE_ENV]: '1000' })).toThrow(/tests only/);
  });
  it('is off when unset, and must be a positive whole number of milliseconds', () => {
    expect(testPauseBeforeCommit(log, { NODE_ENV: 'production' })).toBeNull();
    expect(() => testPauseBeforeCommit(log, { [TEST_PAUSE_ENV]: 'soon', NODE_ENV: 'test' })).toThrow(/milliseconds/);
    expect(testPauseBeforeCommit(log, { [TEST_PAUSE_ENV]: '5', NODE_ENV: 'test' })).toBeTypeOf('function');
  });
});

// The health monitor's rules on a fake clock: a stale escalation sweep fails it, an idle site does
// not, events waiting for a commit fail it after 30 s, and one good commit ends the wait.
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createHealthMonitor } from '../../server/health.ts';
import type { WriteProbeResult } from '../../server/storage/health.ts';
import { FakeClock } from '../helpers/fake-clock.ts';

function monitor(opts: { probe?: WriteProbeResult; queue?: () => number } = {}) {
  const clock = new FakeClock(Date.parse('2026-11-23T02:00:00.000Z'));
  let lastSweep: number | null = null;
  const m = createHealthMonitor({
    clock,
    log: pino({ level: 'silent' }),
    probe: async () => opts.probe ?? { ok: true, ms: 1 },
    lastEscalationSweep: () => lastSweep,
    ingestQueueLength: opts.queue ?? (() => 0),
  });
  return {
    m,
    clock,
    sweep: () => {
      lastSweep = clock.now();
    },
  };
}

describe('health monitor', () => {
  it('an escalation sweep older than 10 s fails the check; a new one passes it', async () => {
    const { m, clock, sweep } = monitor();
    sweep();
    clock.advance(10_000);
    expect((await m.check()).ok).toBe(true);
    clock.advance(1);
    const stale = await m.check();
    expect(stale).toMatchObject({ ok: false, checks: { escalationSweep: false }, escalationSweepAgeMs: 10_001 });
    sweep();
    expect((await m.check()).ok).toBe(true);
  });

  it('a site without events is healthy however long it has been quiet', async () => {
    const { m, clock, sweep } = monitor();
    clock.advance(3_600_000);
    sweep();
    expect(await m.check()).toMatchObject({ ok: true, lastCommitAgeMs: null, ingestWaitingMs: null });
  });

  it('a failed commit leaves events waiting: stale after 30 s, healthy again after a good commit', async () => {
    const { m, clock, sweep } = monitor();
    m.commit(false);
    clock.advance(30_000);
    sweep();
    expect(await m.check()).toMatchObject({ ok: true, ingestWaitingMs: 30_000 });
    clock.advance(1_000);
    sweep();
    expect(await m.check()).toMatchObject({ ok: false, checks: { ingest: false } });
    m.commit(true);
    expect(await m.check()).toMatchObject({ ok: true, lastCommitAgeMs: 0, ingestWaitingMs: null });
  });

  it('a queue that does not move (a commit that hangs) is stale after 30 s', async () => {
    const { m, clock, sweep } = monitor({ queue: () => 5 });
    sweep();
    expect((await m.check()).ingestWaitingMs).toBe(0);
    clock.advance(31_000);
    sweep();
    expect(await m.check()).toMatchObject({ ok: false, checks: { ingest: false } });
  });

  it('a refused write fails it and names the code', async () => {
    const { m, sweep } = monitor({ probe: { ok: false, ms: 3, error: 'SQLITE_FULL' } });
    sweep();
    expect(await m.check()).toMatchObject({ ok: false, checks: { database: false }, database: { error: 'SQLITE_FULL' } });
  });
});

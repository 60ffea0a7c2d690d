// The bounded sender alone, with attempts as promises the test controls (real timers, short
// budgets): a dead endpoint costs only its own slots and queue, retries never hold back first
// attempts, and an attempt that ignores its budget is recorded as failed when the budget is spent.
// The end-to-end case with real HTTP endpoints is test/e2e/alarm-lane.test.ts.
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { Receipt } from '../../server/alarms/notify.ts';
import { createSender, type SendJob } from '../../server/alarms/sender.ts';

const log = pino({ level: 'silent' });
let next = 0;
const newId = () => {
  next += 1;
  return `n-${next}`;
};

interface Probe {
  started: string[];
  recorded: Array<{ id: string; receipt: Receipt }>;
}
const probe = (): Probe => ({ started: [], recorded: [] });

/** A job whose endpoint never answers: it ends only when its signal aborts. */
function dead(p: Probe, endpoint: string, first = true): SendJob {
  const id = newId();
  return {
    id,
    endpoint,
    first,
    attempt: (signal) =>
      new Promise((resolve) => {
        p.started.push(id);
        signal.addEventListener('abort', () => resolve({ ok: false, error: 'aborted', retry: true }));
      }),
    record: async (receipt) => {
      p.recorded.push({ id, receipt });
    },
  };
}
/** A job whose endpoint answers at once. */
function alive(p: Probe, endpoint: string, first = true): SendJob {
  const id = newId();
  return {
    id,
    endpoint,
    first,
    attempt: async () => {
      p.started.push(id);
      return { ok: true };
    },
    record: async (receipt) => {
      p.recorded.push({ id, receipt });
    },
  };
}
async function until(check: () => boolean, what: string, ms = 5_000) {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('the bounded sender', () => {
  it('a dead endpoint holds only its own slots: another endpoint is sent at once', async () => {
    const p = probe();
    const sender = createSender(log, { attemptBudgetMs: 60_000, perEndpoint: 4 });
    const stuck = Array.from({ length: 50 }, () => dead(p, 'webhook:http://dead'));
    for (const j of stuck) expect(sender.offer(j)).toBe(true);
    expect(p.started).toHaveLength(4);
    const ok = alive(p, 'webhook:http://alive');
    expect(sender.offer(ok)).toBe(true);
    await until(() => p.recorded.some((r) => r.id === ok.id), 'the live endpoint recorded');
    expect(p.recorded).toEqual([{ id: ok.id, receipt: { ok: true } }]);
    await sender.stop();
    // Cut short by stop: not recorded, so their rows stay due.
    expect(p.recorded).toHaveLength(1);
  });

  it('retries never take the slots first attempts need, nor go before them', async () => {
    const p = probe();
    const sender = createSender(log, { attemptBudgetMs: 60_000, perEndpoint: 4, perEndpointRetries: 2 });
    const retries = Array.from({ length: 5 }, () => dead(p, 'webhook:http://slow', false));
    for (const j of retries) sender.offer(j);
    expect(p.started).toEqual(retries.slice(0, 2).map((j) => j.id));
    // Same endpoint, first attempts: they get the two slots retries may not take.
    const firsts = [dead(p, 'webhook:http://slow'), dead(p, 'webhook:http://slow')];
    for (const j of firsts) sender.offer(j);
    expect(p.started.slice(2)).toEqual(firsts.map((j) => j.id));
    await sender.stop();
  });

  it("a dead endpoint's retries cannot fill the retry queue: another endpoint's retry is still taken", async () => {
    const p = probe();
    const sender = createSender(log, { attemptBudgetMs: 60_000, maxQueuedRetries: 200, maxQueuedRetriesPerEndpoint: 8 });
    let taken = 0;
    for (let i = 0; i < 300; i += 1) if (sender.offer(dead(p, 'webhook:http://dead', false))) taken += 1;
    // 2 running, 8 waiting: the rest stay due in the table.
    expect(taken).toBe(10);
    expect(sender.accepts('webhook:http://dead', false)).toBe(false);
    expect(sender.accepts('webhook:http://alive', false)).toBe(true);
    const ok = alive(p, 'webhook:http://alive', false);
    expect(sender.offer(ok)).toBe(true);
    await until(() => p.recorded.some((r) => r.id === ok.id), "the live endpoint's retry recorded");
    await sender.stop();
  });

  it('an attempt that ignores its budget is recorded as failed, retryable, when the budget is spent', async () => {
    const p = probe();
    const sender = createSender(log, { attemptBudgetMs: 100 });
    const deaf: SendJob = {
      id: 'deaf',
      endpoint: 'webhook:http://deaf',
      first: true,
      attempt: () => new Promise(() => undefined),
      record: async (receipt) => {
        p.recorded.push({ id: 'deaf', receipt });
      },
    };
    const started = Date.now();
    sender.offer(deaf);
    await until(() => p.recorded.length === 1, 'the budget spent');
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(p.recorded[0]?.receipt).toEqual({ ok: false, error: 'no answer within 100 ms', retry: true });
    await sender.idle();
    expect(sender.stats()).toEqual({ queued: 0, inFlight: 0 });
  });
});

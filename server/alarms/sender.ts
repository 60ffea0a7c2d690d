// The bounded, concurrent sender every notification goes through (webhook today; SMS and push
// later). Nothing that escalates waits on it: jobs are offered and run here, each attempt within a
// time budget, with a limit per endpoint (a webhook's origin, a phone number) so that one dead
// endpoint ties up only its own slots, and a global limit. First attempts go before retries and
// have slots retries may not take. The queues are bounded, in all and per endpoint: a job that does
// not fit is refused, and the caller leaves its row due in the database, to be offered again
// (nothing is lost).
import type { Logger } from 'pino';
import type { Receipt } from './notify.ts';

export interface SendJob {
  /** The notification's id: one job per id is queued or running at a time. */
  id: string;
  /** What one concurrency limit covers. */
  endpoint: string;
  /** A first attempt (never queued behind retries) or a retry. */
  first: boolean;
  /** Sends once; should stop when `signal` aborts (the budget is also enforced around it). */
  attempt(signal: AbortSignal): Promise<Receipt | 'skipped'>;
  /** Records the outcome (not called for a skipped attempt or one cut short by `stop`). */
  record(receipt: Receipt): Promise<void>;
}

export interface SenderLimits {
  /** Time one attempt may take, in real milliseconds. */
  attemptBudgetMs: number;
  /** Attempts running at once, all endpoints. */
  maxInFlight: number;
  /** Of those, at most this many retries: the rest is kept for first attempts. */
  maxInFlightRetries: number;
  /** Attempts running at once to one endpoint. */
  perEndpoint: number;
  /** Of those, at most this many retries. */
  perEndpointRetries: number;
  /** First attempts waiting for a slot. */
  maxQueued: number;
  /** Retries waiting for a slot. */
  maxQueuedRetries: number;
  /** First attempts and retries waiting for one endpoint, so a dead one cannot fill the queues. */
  maxQueuedPerEndpoint: number;
  maxQueuedRetriesPerEndpoint: number;
}

export const defaultSenderLimits: SenderLimits = {
  attemptBudgetMs: 5_000, // 5 s, as the webhook timeout always was
  maxInFlight: 64,
  maxInFlightRetries: 32,
  perEndpoint: 4,
  perEndpointRetries: 2,
  maxQueued: 2_000,
  maxQueuedRetries: 200,
  maxQueuedPerEndpoint: 200,
  maxQueuedRetriesPerEndpoint: 8,
};

export function createSender(log: Logger, limits: Partial<SenderLimits> = {}) {
  const lim = { ...defaultSenderLimits, ...limits };
  const firsts: SendJob[] = [];
  const retries: SendJob[] = [];
  const known = new Set<string>();
  const running = new Map<SendJob, { abort: AbortController; done: Promise<void> }>();
  const perEndpoint = new Map<string, { all: number; retries: number }>();
  const queuedFor = new Map<string, { firsts: number; retries: number }>();
  let retriesRunning = 0;
  let stopping = false;
  const idleWaiters: Array<() => void> = [];

  function fits(job: SendJob): boolean {
    if (running.size >= lim.maxInFlight) return false;
    if (!job.first && retriesRunning >= lim.maxInFlightRetries) return false;
    const e = perEndpoint.get(job.endpoint);
    if (!e) return true;
    return e.all < lim.perEndpoint && (job.first || e.retries < lim.perEndpointRetries);
  }

  function pump() {
    for (const queue of [firsts, retries]) {
      for (let i = 0; i < queue.length && running.size < lim.maxInFlight; ) {
        const job = queue[i] as SendJob;
        if (fits(job)) {
          queue.splice(i, 1);
          dequeued(job);
          start(job);
        } else i += 1;
      }
    }
    if (running.size === 0 && firsts.length === 0 && retries.length === 0) {
      for (const w of idleWaiters.splice(0)) w();
    }
  }

  function queuedCount(endpoint: string, first: boolean): number {
    const q = queuedFor.get(endpoint);
    return q ? (first ? q.firsts : q.retries) : 0;
  }
  function dequeued(job: SendJob) {
    const q = queuedFor.get(job.endpoint);
    if (!q) return;
    if (job.first) q.firsts -= 1;
    else q.retries -= 1;
    if (q.firsts === 0 && q.retries === 0) queuedFor.delete(job.endpoint);
  }

  /** Whether a job of this kind for this endpoint would be taken now. */
  function accepts(endpoint: string, first: boolean): boolean {
    if (stopping) return false;
    if (first ? firsts.length >= lim.maxQueued : retries.length >= lim.maxQueuedRetries) return false;
    return queuedCount(endpoint, first) < (first ? lim.maxQueuedPerEndpoint : lim.maxQueuedRetriesPerEndpoint);
  }

  function start(job: SendJob) {
    const e = perEndpoint.get(job.endpoint) ?? { all: 0, retries: 0 };
    e.all += 1;
    if (!job.first) {
      e.retries += 1;
      retriesRunning += 1;
    }
    perEndpoint.set(job.endpoint, e);
    const abort = new AbortController();
    const done = run(job, abort).finally(() => {
      running.delete(job);
      known.delete(job.id);
      e.all -= 1;
      if (!job.first) {
        e.retries -= 1;
        retriesRunning -= 1;
      }
      if (e.all === 0) perEndpoint.delete(job.endpoint);
      if (!stopping) pump();
      else if (running.size === 0) for (const w of idleWaiters.splice(0)) w();
    });
    running.set(job, { abort, done });
  }

  async function run(job: SendJob, abort: AbortController): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const budget = new Promise<Receipt>((resolve) => {
      timer = setTimeout(() => {
        abort.abort(new Error('attempt budget spent'));
        resolve({ ok: false, error: `no answer within ${lim.attemptBudgetMs} ms`, retry: true });
      }, lim.attemptBudgetMs);
    });
    try {
      const receipt = await Promise.race([
        job.attempt(abort.signal).catch((err: unknown): Receipt => ({ ok: false, error: (err as Error).message, retry: true })),
        budget,
      ]);
      clearTimeout(timer);
      if (receipt === 'skipped' || stopping) return;
      if (!receipt.ok && abort.signal.aborted) receipt.error = `no answer within ${lim.attemptBudgetMs} ms`;
      await job.record(receipt);
    } catch (err) {
      log.error({ err, notificationId: job.id }, 'recording a notification attempt failed');
    } finally {
      clearTimeout(timer);
      abort.abort();
    }
  }

  return {
    /**
     * Queues a job; false when it cannot be taken (the queue for its kind is full, the job is
     * already here, or the sender is stopping): its row stays due for a later offer.
     */
    offer(job: SendJob): boolean {
      if (known.has(job.id) || !accepts(job.endpoint, job.first)) return false;
      known.add(job.id);
      const q = queuedFor.get(job.endpoint) ?? { firsts: 0, retries: 0 };
      if (job.first) q.firsts += 1;
      else q.retries += 1;
      queuedFor.set(job.endpoint, q);
      (job.first ? firsts : retries).push(job);
      pump();
      return true;
    },
    /** Whether this notification is queued or being sent here. */
    has: (id: string) => known.has(id),
    accepts,
    /** How many more retries the queue takes now (all endpoints). */
    retryRoom: () => Math.max(0, lim.maxQueuedRetries - retries.length),
    stats: () => ({ queued: firsts.length + retries.length, inFlight: running.size }),
    /** Resolves once nothing is queued or being sent (tests). */
    idle(): Promise<void> {
      if (running.size === 0 && firsts.length === 0 && retries.length === 0) return Promise.resolve();
      return new Promise((resolve) => idleWaiters.push(resolve));
    },
    /**
     * Drops what waits and cuts running attempts short without recording them: their rows keep
     * their lease and are retried when it ends (here after a restart, or by another instance).
     */
    async stop() {
      stopping = true;
      firsts.length = 0;
      retries.length = 0;
      queuedFor.clear();
      for (const { abort } of running.values()) abort.abort(new Error('server stopping'));
      await Promise.all([...running.values()].map((r) => r.done));
    },
  };
}
export type Sender = ReturnType<typeof createSender>;

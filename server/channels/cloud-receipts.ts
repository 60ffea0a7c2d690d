// Delivery receipts for the cloud SMS APIs, pulled: a nursing home's server usually sits behind NAT
// where the providers' push callbacks cannot reach it, so it asks. Every message a cloud provider
// took is written down (sms_receipt_checks) with its number and send time; the poller, a task of
// the work lane (never the alarm lane), reads the provider's reports and turns the notification
// `sent` -> `delivered` or `failed` through recordDeliveryReport, as the SMPP receipts do.
//
// - Alibaba Cloud: QuerySendDetails per message, each message checked again after 15 s, 30 s,
//   1 min ... up to every 30 min (the per-row backoff), a few messages a pass.
// - Tencent Cloud: PullSmsSendStatus for the whole app, each report given once: a report whose
//   notification does not carry the id yet (the pull overtook the sender's write) is kept in its
//   row and applied on a later pass, not lost.
// Bounded: one pass at a time, at most every `intervalMs`, within `passBudgetMs` of wall time and
// `maxQueriesPerPass` calls; a provider fault (network, throttling, credentials) pauses polling
// with the shared backoff. After `giveUpMs` (a day) a message is no longer checked: it stays
// `sent`, never `delivered` without the provider saying so.
//
// Where the provider can reach the server (CARE_PUBLIC_URL), it may push the same reports instead
// (receipt-routes.ts); they are applied here the same way.
import type { Logger } from 'pino';
import { backoffCeiling, createBackoff } from '../../protocol/backoff.ts';
import type { Db } from '../storage/registry.ts';
import type { CloudSms } from './cloud-sms.ts';
import { recordDeliveryReport } from './sms.ts';

export interface CloudReceiptOptions {
  /** Least time between two passes [10 s]. */
  intervalMs?: number;
  /** Wall time one pass may take, all calls included [3 s]. */
  passBudgetMs?: number;
  /** Provider calls a pass makes at most [10]. */
  maxQueriesPerPass?: number;
  /** Alibaba: first check after sending, doubling per check up to `checkCapMs` [15 s, 30 min]. */
  firstCheckMs?: number;
  checkCapMs?: number;
  /** No more checks after this long; the notification stays `sent` [24 h]. */
  giveUpMs?: number;
  /** Pause after a provider fault, doubling [30 s to 30 min]. */
  faultBackoff?: { baseMs: number; capMs: number };
}

export interface CloudReceiptDeps {
  db: Db;
  now: () => string;
  log: Logger;
  cloud: CloudSms;
}

const iso = (ms: number) => new Date(ms).toISOString();

export function createCloudReceipts(deps: CloudReceiptDeps, options: CloudReceiptOptions = {}) {
  const { db, now, log, cloud } = deps;
  const intervalMs = options.intervalMs ?? 10_000;
  const passBudgetMs = options.passBudgetMs ?? 3_000;
  const maxQueries = options.maxQueriesPerPass ?? 10;
  const check = { baseMs: options.firstCheckMs ?? 15_000, capMs: options.checkCapMs ?? 30 * 60_000 };
  const giveUpMs = options.giveUpMs ?? 24 * 3600_000;
  const faults = createBackoff({ ...(options.faultBackoff ?? { baseMs: 30_000, capMs: 30 * 60_000 }), minShare: 1 });
  const prefix = `${cloud.provider}:`;
  let lastPass = Number.NEGATIVE_INFINITY;
  let pausedUntil = Number.NEGATIVE_INFINITY;
  let running: Promise<void> | null = null;
  const stats = { queries: 0, faults: 0, delivered: 0, failed: 0, gaveUp: 0 };

  /** A message the provider took: checked from `firstCheckMs` on. */
  async function track(providerId: string, phone: string): Promise<void> {
    if (!providerId.startsWith(prefix)) return;
    const at = now();
    await db
      .insertInto('sms_receipt_checks')
      .values({
        provider_id: providerId,
        phone,
        sent_at: at,
        next_check_at: iso(Date.parse(at) + check.baseMs),
        checks: 0,
        outcome: null,
        error: null,
      })
      .onConflict((oc) => oc.column('provider_id').doNothing())
      .execute();
  }

  /** Applies a final report; the row goes once its notification took it. */
  async function apply(providerId: string, outcome: 'delivered' | 'failed', error: string | null): Promise<void> {
    const found = await recordDeliveryReport(db, now, providerId, outcome === 'delivered', error ?? undefined);
    if (found > 0) {
      stats[outcome] += 1;
      await db.deleteFrom('sms_receipt_checks').where('provider_id', '=', providerId).execute();
    } else {
      // Not (yet) on a notification: kept with its row until the sender's write lands or the row expires.
      await db.updateTable('sms_receipt_checks').set({ outcome, error }).where('provider_id', '=', providerId).execute();
    }
  }

  function fault(error: string) {
    stats.faults += 1;
    const delay = faults.next();
    pausedUntil = Date.parse(now()) + delay;
    log.warn({ provider: cloud.provider, error, retryInMs: delay }, 'SMS provider refused the delivery report query; pausing');
  }

  async function pass(): Promise<void> {
    const t = Date.parse(now());
    // A day without a receipt: no more checks; the notification stays `sent`.
    const expired = await db
      .deleteFrom('sms_receipt_checks')
      .where('provider_id', 'like', `${prefix}%`)
      .where('sent_at', '<', iso(t - giveUpMs))
      .executeTakeFirst();
    const gone = Number(expired.numDeletedRows ?? 0);
    if (gone > 0) {
      stats.gaveUp += gone;
      log.info({ provider: cloud.provider, messages: gone }, 'no delivery report within a day; those SMS stay "sent"');
    }
    // Reports read earlier whose notification had no provider id yet.
    const kept = await db
      .selectFrom('sms_receipt_checks')
      .select(['provider_id', 'outcome', 'error'])
      .where('provider_id', 'like', `${prefix}%`)
      .where('outcome', 'is not', null)
      .limit(100)
      .execute();
    for (const k of kept) if (k.outcome) await apply(k.provider_id, k.outcome, k.error);

    const budget = AbortSignal.timeout(passBudgetMs);
    let calls = 0;
    if (cloud.provider === 'tencent') {
      // Only while something waits for a report: the pull takes the app's reports for good.
      const waiting = await db
        .selectFrom('sms_receipt_checks')
        .select('provider_id')
        .where('provider_id', 'like', `${prefix}%`)
        .where('outcome', 'is', null)
        .limit(1)
        .execute();
      if (waiting.length === 0) return;
      while (calls < maxQueries && !budget.aborted) {
        calls += 1;
        stats.queries += 1;
        const read = await cloud.readReports(null, budget);
        if (!read.ok) return fault(read.error);
        faults.reset();
        for (const r of read.reports) if (r.state !== 'waiting') await apply(r.providerId, r.state, r.error ?? null);
        if (read.reports.length < 100) break;
      }
      return;
    }
    // Alibaba: the messages due for a check, oldest check first.
    const due = await db
      .selectFrom('sms_receipt_checks')
      .selectAll()
      .where('provider_id', 'like', `${prefix}%`)
      .where('outcome', 'is', null)
      .where('next_check_at', '<=', iso(t))
      .orderBy('next_check_at')
      .limit(maxQueries)
      .execute();
    for (const row of due) {
      if (budget.aborted) break;
      // Claimed by moving its next check (another instance sharing the database skips it).
      const claimed = await db
        .updateTable('sms_receipt_checks')
        .set({ checks: row.checks + 1, next_check_at: iso(t + backoffCeiling(row.checks + 1, check)) })
        .where('provider_id', '=', row.provider_id)
        .where('next_check_at', '=', row.next_check_at)
        .executeTakeFirst();
      if (Number(claimed.numUpdatedRows) !== 1) continue;
      calls += 1;
      stats.queries += 1;
      const read = await cloud.readReports({ providerId: row.provider_id, phone: row.phone, sentAt: row.sent_at }, budget);
      if (!read.ok) return fault(read.error);
      faults.reset();
      for (const r of read.reports) if (r.state !== 'waiting') await apply(r.providerId, r.state, r.error ?? null);
    }
  }

  return {
    track,
    /**
     * A report the provider pushed (its HTTP callback): applied like a pulled one. Only a message
     * of this provider counts; an id no notification carries changes nothing.
     */
    async report(providerId: string, outcome: 'delivered' | 'failed', error: string | null): Promise<void> {
      if (providerId.startsWith(prefix)) await apply(providerId, outcome, error);
    },
    /** One bounded pass, if one is due (the work lane calls this every second). */
    async poll(): Promise<void> {
      const t = Date.parse(now());
      if (running || t < pausedUntil || t - lastPass < intervalMs) return;
      lastPass = t;
      running = pass().finally(() => {
        running = null;
      });
      return running;
    },
    stats,
  };
}
export type CloudReceipts = ReturnType<typeof createCloudReceipts>;

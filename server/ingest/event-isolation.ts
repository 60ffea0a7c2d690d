// The bulkhead between events of one batch. A batch is committed in one transaction (one fsync for
// hundreds of events); when it fails, it is run again with each event inside its own SAVEPOINT,
// so an event that cannot be stored or evaluated rolls back alone and every other event, from
// every other gateway, still commits. What happens to that one event is decided here.
import { sql } from 'kysely';
import type { Db } from '../storage/registry.ts';

export type Isolated<T> = { ok: true; value: T } | { ok: false; err: unknown };

/**
 * Runs `work` inside a savepoint of `tx`: on a throw, only its own writes are undone and the error
 * is returned. If the savepoint itself cannot be rolled back (the connection is gone, or SQLite
 * already rolled the whole transaction back on a full disk), the original error is thrown: the
 * whole transaction is lost, nothing is confirmed, and the gateways resend.
 */
export async function inSavepoint<T>(tx: Db, work: () => Promise<T>): Promise<Isolated<T>> {
  await sql`savepoint care_event`.execute(tx);
  try {
    const value = await work();
    await sql`release savepoint care_event`.execute(tx);
    return { ok: true, value };
  } catch (err) {
    try {
      await sql`rollback to savepoint care_event`.execute(tx);
      await sql`release savepoint care_event`.execute(tx);
    } catch {
      // SQLite rolls the whole transaction back by itself on some errors (SQLITE_FULL, SQLITE_IOERR):
      // the savepoint is gone with it. Throw the error that caused it, not "no such savepoint".
      throw err;
    }
    return { ok: false, err };
  }
}

/** Drivers' errors carry a code (SQLITE_BUSY, a PostgreSQL SQLSTATE, ECONNRESET): they may pass. */
export const mayBeTransient = (err: unknown): boolean => typeof (err as { code?: unknown } | null)?.code === 'string';

export interface PoisonPolicyOptions {
  /** Failed deliveries of one event, each in a transaction that otherwise committed, before it is refused. */
  maxAttempts?: number;
  /** Events remembered at once; the oldest is forgotten first. */
  maxTracked?: number;
}

/**
 * Whether an event that failed on its own is left unconfirmed for the gateway to resend, or
 * confirmed as rejected so it is not resent forever. A failure in our own code (a TypeError, a
 * RangeError) would fail again: refused at once. A database error might pass next time: the
 * event gets `maxAttempts` deliveries, then is refused. Memory is bounded overall, not per gateway:
 * a gateway with many failing events can push out another's counts, whose events are then resent
 * a few more times (never lost).
 */
export function createPoisonPolicy(opts: PoisonPolicyOptions = {}) {
  const maxAttempts = opts.maxAttempts ?? 3;
  const maxTracked = opts.maxTracked ?? 10_000;
  const failures = new Map<string, number>();
  return {
    verdict(gatewayId: string, eventId: string, err: unknown): 'resend' | 'reject' {
      if (!mayBeTransient(err)) return 'reject';
      const key = `${gatewayId}\n${eventId}`;
      const n = (failures.get(key) ?? 0) + 1;
      failures.delete(key);
      if (n >= maxAttempts) return 'reject';
      if (failures.size >= maxTracked) failures.delete(failures.keys().next().value as string);
      failures.set(key, n);
      return 'resend';
    },
    /** The event committed after all: forget its failures. */
    passed(gatewayId: string, eventId: string) {
      if (failures.size > 0) failures.delete(`${gatewayId}\n${eventId}`);
    },
    get tracked() {
      return failures.size;
    },
  };
}

// The health check's write: one row per server instance, upserted in its own transaction, so
// /healthz and /readyz prove that the state store takes a commit now. A full disk, a stopped
// PostgreSQL or one that hangs fails it; a plain `SELECT 1` passed all three.
import { sql } from 'kysely';
import type { Db } from './registry.ts';

export interface WriteProbeResult {
  ok: boolean;
  /** How long the write took (or until it was given up). */
  ms: number;
  /** A short code (`SQLITE_FULL`, `ECONNREFUSED`, `timeout`), never a message with addresses. */
  error?: string;
  /** The error itself, for the log. */
  cause?: unknown;
}

export function createWriteProbe(db: Db, engine: 'sqlite' | 'postgres', instanceId: string, timeoutMs = 2000, reuseMs = 500) {
  let inFlight: Promise<WriteProbeResult> | null = null;
  // /healthz needs no login: a flood of checks must not become a flood of fsyncs.
  let last: { result: WriteProbeResult; at: number } | null = null;

  async function write(at: string): Promise<void> {
    await db.transaction().execute(async (tx) => {
      // PostgreSQL: a lock or a stalled disk must not hold the check past its budget.
      if (engine === 'postgres') await sql`SET LOCAL statement_timeout = ${sql.lit(timeoutMs)}`.execute(tx);
      await tx
        .insertInto('health_probe')
        .values({ instance_id: instanceId, checked_at: at, writes: 1 })
        // SQLite skips rewriting a row to the same content: the count makes every check a real write.
        .onConflict((oc) => oc.column('instance_id').doUpdateSet({ checked_at: at, writes: sql`health_probe.writes + 1` }))
        .execute();
    });
  }

  async function run(at: string): Promise<WriteProbeResult> {
    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    // A real timer: the budget is for real I/O, whatever clock the alarm logic runs on.
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(Object.assign(new Error('health write timed out'), { code: 'timeout' })), timeoutMs);
    });
    try {
      await Promise.race([write(at), timeout]);
      return { ok: true, ms: Math.round(performance.now() - started) };
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      return { ok: false, ms: Math.round(performance.now() - started), error: typeof code === 'string' ? code : 'error', cause: err };
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    /** Writes the instance's row now; checks that arrive meanwhile, or within `reuseMs` after, share that write. */
    probe(at: string): Promise<WriteProbeResult> {
      if (last && performance.now() - last.at < reuseMs) return Promise.resolve(last.result);
      inFlight ??= run(at)
        .then((result) => {
          last = { result, at: performance.now() };
          return result;
        })
        .finally(() => {
          inFlight = null;
        });
      return inFlight;
    },
  };
}
export type WriteProbe = ReturnType<typeof createWriteProbe>;

/** Whether an error came from the state store (SQLite, PostgreSQL or the connection to it). */
export function isStoreError(err: unknown): boolean {
  if (!err || typeof err !== 'object') return false;
  const e = err as { name?: unknown; code?: unknown; severity?: unknown; message?: unknown };
  if (e.name === 'SqliteError' || (typeof e.code === 'string' && e.code.startsWith('SQLITE_'))) return true;
  // pg's DatabaseError carries the server's severity; a lost connection a socket error code.
  if (typeof e.severity === 'string') return true;
  if (typeof e.code === 'string' && ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', '57P01', '57P03'].includes(e.code)) return true;
  return (
    typeof e.message === 'string' && /Connection terminated|connection timeout|Client has encountered a connection error/i.test(e.message)
  );
}

// Whether the outbox can take writes. A store error (disk full, I/O error) marks it unwritable at
// once; from then on a probe write every few seconds finds out when it can again. Only a write
// that succeeded (an event, a telemetry batch or the probe) clears the fault: the server's
// `device_fault` alarm on the gateway follows this state through the gateway's status.
import type { Logger } from 'pino';

export interface OutboxHealthOptions {
  /** How often an unwritable outbox is tried again. */
  probeMs: number;
}

export function createOutboxHealth(
  probeWrite: () => void,
  log: Logger,
  onChange: (writable: boolean) => void,
  opts: OutboxHealthOptions = { probeMs: 5000 },
) {
  let writable = true;
  let failures = 0;
  let probe: NodeJS.Timeout | null = null;

  function tryProbe() {
    try {
      probeWrite();
      succeeded();
    } catch {
      // Still unwritable; the first failure was logged with its cause.
    }
  }

  function succeeded() {
    if (writable) return;
    writable = true;
    if (probe) clearInterval(probe);
    probe = null;
    log.warn({ failures }, 'outbox writable again');
    failures = 0;
    onChange(true);
  }

  return {
    /** A store operation threw: `what` names it for the log. */
    failed(what: string, err: unknown) {
      failures += 1;
      if (!writable) return;
      writable = false;
      const e = err as { code?: string; message?: string };
      log.error({ op: what, code: e.code, err: e.message }, 'outbox unwritable: events go out from memory, not durable');
      probe = setInterval(tryProbe, opts.probeMs);
      onChange(false);
    },
    succeeded,
    get writable() {
      return writable;
    },
    stop() {
      if (probe) clearInterval(probe);
      probe = null;
    },
  };
}
export type OutboxHealth = ReturnType<typeof createOutboxHealth>;

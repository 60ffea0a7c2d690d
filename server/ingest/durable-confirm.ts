// A gateway deletes an event once it is confirmed, so the confirmation waits until the commit is on
// disk. The fsync runs off the event loop and is shared by every batch that waits for it; the alarms
// of the batch are already on the screens. If it fails, nothing is confirmed and the gateways resend
// (the event id makes that harmless).
import type { Logger } from 'pino';
import type { ParsedTopic } from '../../protocol/index.ts';
import type { Metrics } from '../metrics.ts';
import type { Confirmations } from './confirmations.ts';

export interface DurableConfirmDeps {
  /** Resolves when what was committed before the call is on disk; absent: at once. */
  durable?: () => Promise<void>;
  confirmations: Pick<Confirmations, 'confirm'>;
  metrics: Metrics;
  log: Logger;
  /** Told when the fsync failed: ingest is not committing for the health check. */
  onFailed?: () => void;
}

export function createDurableConfirm(deps: DurableConfirmDeps) {
  /** Confirmations waiting for the fsync that makes their commit durable. */
  const awaitingDisk = new Set<Promise<void>>();
  return {
    confirm(items: Array<{ topic: ParsedTopic; event: { id: string } }>) {
      if (items.length === 0) return;
      const p = (deps.durable?.() ?? Promise.resolve())
        .then(
          () => {
            for (const { topic, event } of items) deps.confirmations.confirm(topic.siteId, topic.gatewayId, event.id);
          },
          (err: unknown) => {
            deps.metrics.storeErrors.inc({ store: 'state' });
            deps.onFailed?.();
            deps.log.error(
              { err, events: items.length },
              'committed events could not be made durable (fsync failed); left unconfirmed for the gateways to resend',
            );
          },
        )
        .finally(() => awaitingDisk.delete(p));
      awaitingDisk.add(p);
    },
    /** Waits for every confirmation still waiting for the disk (shutdown). */
    async settled() {
      await Promise.allSettled([...awaitingDisk]);
    },
  };
}

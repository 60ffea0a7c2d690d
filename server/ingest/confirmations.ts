// Tells each gateway which of its event ids are committed (DESIGN.md section 7, item 2), batched
// per gateway so a burst costs a few downlink messages, not one per event.
import { type GatewayCmd, gatewayTopic } from '../../protocol/index.ts';

export type DownlinkPublish = (topic: string, payload: string) => void;

export function createConfirmations(publish: DownlinkPublish, opts = { maxIds: 500, delayMs: 5 }) {
  const pending = new Map<string, { siteId: string; ids: string[] }>();
  let timer: NodeJS.Timeout | null = null;

  const flushGateway = (gatewayId: string) => {
    const p = pending.get(gatewayId);
    if (!p) return;
    pending.delete(gatewayId);
    const cmd: GatewayCmd = { v: 1, type: 'committed', ids: p.ids };
    publish(gatewayTopic(p.siteId, gatewayId, 'cmd'), JSON.stringify(cmd));
  };
  const flush = () => {
    timer = null;
    for (const id of [...pending.keys()]) flushGateway(id);
  };

  return {
    confirm(siteId: string, gatewayId: string, eventId: string) {
      let p = pending.get(gatewayId);
      if (!p) {
        p = { siteId, ids: [] };
        pending.set(gatewayId, p);
      }
      p.ids.push(eventId);
      if (p.ids.length >= opts.maxIds) flushGateway(gatewayId);
      else timer ??= setTimeout(flush, opts.delayMs);
    },
    flush() {
      if (timer) clearTimeout(timer);
      flush();
    },
  };
}
export type Confirmations = ReturnType<typeof createConfirmations>;

// The telemetry lane's waiting room, bounded in messages and bytes. When it is full, what goes is
// the oldest message of the gateway holding the most places, not the oldest of all: a gateway
// flooding readings sheds its own backlog and cannot push out another gateway's readings (a vital
// sign or a battery level that would raise an alarm).
import type { TelemetryMessage } from './telemetry-reader.ts';

export function createTelemetryQueue(limits: { maxMessages: number; maxBytes: number }) {
  const queue: TelemetryMessage[] = [];
  const perGateway = new Map<string, number>();
  let bytes = 0;

  function removed(m: TelemetryMessage) {
    bytes -= m.payload.byteLength;
    const n = (perGateway.get(m.gatewayId) ?? 1) - 1;
    if (n === 0) perGateway.delete(m.gatewayId);
    else perGateway.set(m.gatewayId, n);
  }

  function heaviestGateway(): string {
    let heaviest = '';
    let most = -1;
    for (const [gatewayId, n] of perGateway) {
      if (n > most) {
        most = n;
        heaviest = gatewayId;
      }
    }
    return heaviest;
  }

  return {
    /** Queues `m`; returns how many messages were shed to make room. */
    push(m: TelemetryMessage): number {
      queue.push(m);
      bytes += m.payload.byteLength;
      perGateway.set(m.gatewayId, (perGateway.get(m.gatewayId) ?? 0) + 1);
      let dropped = 0;
      while (queue.length > limits.maxMessages || (bytes > limits.maxBytes && queue.length > 1)) {
        const gatewayId = heaviestGateway();
        // In a flood the heaviest gateway's messages fill the queue: this finds one at once.
        const i = queue.findIndex((q) => q.gatewayId === gatewayId);
        const [old] = queue.splice(i, 1) as [TelemetryMessage];
        removed(old);
        dropped += 1;
      }
      return dropped;
    },
    /** Takes up to `n` messages, oldest first. */
    take(n: number): TelemetryMessage[] {
      const out = queue.splice(0, n);
      for (const m of out) removed(m);
      return out;
    },
    get length() {
      return queue.length;
    },
  };
}

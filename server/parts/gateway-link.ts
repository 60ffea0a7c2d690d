// Commands to gateways (`committed`, `alarm_ack`) and cutting a gateway off go through whichever
// broker this instance speaks for, once the brokers part has started and attached it.

export interface GatewayBroker {
  publish(topic: string, payload: string): void;
  /** Ends the gateway's session now (embedded broker only; an external one is told through dynsec). */
  disconnect?(gatewayId: string): void;
}

export function createGatewayLink(opts: { shared: boolean }) {
  let broker: GatewayBroker | null = null;
  return {
    /** One broker for every instance: a command published anywhere reaches the gateway. */
    shared: opts.shared,
    attach(b: GatewayBroker | null) {
      broker = b;
    },
    publish(topic: string, payload: string) {
      broker?.publish(topic, payload);
    },
    disconnect(gatewayId: string) {
      broker?.disconnect?.(gatewayId);
    },
  };
}
export type GatewayLink = ReturnType<typeof createGatewayLink>;

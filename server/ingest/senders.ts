// Who sent a message: the topic names a gateway and its site (the broker's ACL made sure of the
// gateway); this checks that the gateway is real and belongs to that site.
import type { Logger } from 'pino';
import type { ParsedTopic } from '../../protocol/index.ts';
import type { Metrics } from '../metrics.ts';
import type { Registry } from '../storage/registry.ts';

export function createSenderCheck(deps: { registry: Pick<Registry, 'getGateway'>; metrics: Metrics; log: Logger }) {
  const siteOfGateway = new Map<string, string>();

  async function gatewaySite(gatewayId: string): Promise<string | undefined> {
    let site = siteOfGateway.get(gatewayId);
    if (site === undefined) {
      site = (await deps.registry.getGateway(gatewayId))?.siteId;
      if (site !== undefined) siteOfGateway.set(gatewayId, site);
    }
    return site;
  }

  return {
    /** The topic names a real gateway of that site; otherwise counted, logged and refused. */
    async check(topic: ParsedTopic, raw: string): Promise<boolean> {
      const site = await gatewaySite(topic.gatewayId);
      if (site === topic.siteId) return true;
      deps.metrics.securityEvents.inc({ kind: 'unknown_gateway_topic' });
      deps.log.warn({ topic: raw }, 'security: message on a topic of an unknown gateway or wrong site; refused');
      return false;
    },
    /** A new gateway: its site is read afresh. */
    forget(gatewayId: string) {
      siteOfGateway.delete(gatewayId);
    },
  };
}
export type SenderCheck = ReturnType<typeof createSenderCheck>;

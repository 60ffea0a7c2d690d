// Broker policy for gateways as plain functions, so each is tested alone and the same rules can
// serve an external broker's auth hooks later. Default deny: anything not allowed here is refused.
import { gatewayPrefix, isTopicSafeId, parseGatewayTopic } from '../../protocol/index.ts';

export interface GatewayIdentity {
  gatewayId: string;
  siteId: string;
}

/** A gateway may publish events, telemetry and status under its own prefix; only status is retained. */
export function mayPublish(who: GatewayIdentity, topic: string, retain: boolean): string | null {
  const t = parseGatewayTopic(topic);
  if (!t || !topic.startsWith(gatewayPrefix(who.siteId, who.gatewayId))) return 'topic outside the gateway prefix';
  if (t.kind === 'cmd') return 'gateways may not publish on cmd';
  if (retain && t.kind !== 'status') return 'only status may be retained';
  return null;
}

/** A gateway may subscribe to its own cmd topic and nothing else (no wildcards, no $SYS). */
export function maySubscribe(who: GatewayIdentity, topic: string): string | null {
  return topic === `${gatewayPrefix(who.siteId, who.gatewayId)}cmd` ? null : 'gateways may subscribe only to their own cmd topic';
}

/** Client ids are gateway ids: no empty, odd or prototype-named ids. */
export function acceptableClientId(id: string): boolean {
  return isTopicSafeId(id);
}

// The gateway identity of direct-mode commands, from options or the gateway's own environment.
import { isTopicSafeId } from '../protocol/index.ts';
import { type Parsed, required, str, UsageError } from './cli.ts';
import type { GatewayLogin } from './direct.ts';

export function gatewayLogin(p: Parsed): GatewayLogin {
  const url = str(p, 'url') ?? process.env.CARE_UPLINK_URL ?? 'mqtt://127.0.0.1:1883';
  if (!/^mqtts?:\/\/[^/]+/.test(url)) throw new UsageError(`--url: "${url}" is not an mqtt:// or mqtts:// URL`);
  const siteId = required(p, 'site', 'CARE_SITE_ID');
  const gatewayId = required(p, 'gateway', 'CARE_GATEWAY_ID');
  const secret = required(p, 'secret', 'CARE_GATEWAY_SECRET');
  if (!isTopicSafeId(siteId)) throw new UsageError(`--site: "${siteId}" is not a valid id`);
  if (!isTopicSafeId(gatewayId)) throw new UsageError(`--gateway: "${gatewayId}" is not a valid id`);
  return { url, siteId, gatewayId, secret };
}

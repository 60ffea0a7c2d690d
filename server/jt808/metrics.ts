// The JT/T 808 listener's counters, on the server's Prometheus registry.
import type { Registry } from 'prom-client';
import { createDeviceListenerMetrics } from '../device-tcp/metrics.ts';

export function createJt808Metrics(registry: Registry) {
  return createDeviceListenerMetrics(registry, {
    protocol: 'jt808',
    connections: 'JT/T 808 terminal connections open now',
    frames:
      'JT/T 808 frames, by outcome (ok, or why refused: garbage, escape, too_large, short, checksum, length, encrypted, subpackage, unusable, wrong_id, rate_limited)',
    refused:
      'JT/T 808 connections closed by the server, by reason (unknown_terminal, not_a_watch, no_gateway, per_address, total, garbage, idle, login_timeout, wrong_id)',
  });
}
export type Jt808Metrics = ReturnType<typeof createJt808Metrics>;

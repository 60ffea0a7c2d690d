// The watch listener's counters, on the server's Prometheus registry.
import type { Registry } from 'prom-client';
import { createDeviceListenerMetrics } from '../device-tcp/metrics.ts';

export function createWatchMetrics(registry: Registry) {
  return createDeviceListenerMetrics(registry, {
    protocol: 'watch',
    connections: 'GPS watch connections open now',
    frames:
      'Watch protocol frames, by outcome (ok, or why refused: garbage, header, too_large, unterminated, escape, unusable, wrong_id, rate_limited)',
    refused:
      'Watch connections closed by the server, by reason (unknown_imei, not_a_watch, per_address, total, garbage, idle, login_timeout, wrong_id)',
  });
}
export type WatchMetrics = ReturnType<typeof createWatchMetrics>;

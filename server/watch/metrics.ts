// The watch listener's counters, on the server's Prometheus registry.
import { Counter, Gauge, type Registry } from 'prom-client';

export function createWatchMetrics(registry: Registry) {
  return {
    connections: new Gauge({
      name: 'care_watch_connections',
      help: 'GPS watch connections open now',
      registers: [registry],
    }),
    frames: new Counter({
      name: 'care_watch_frames_total',
      help: 'Watch protocol frames, by outcome (ok, or why refused: garbage, header, too_large, unterminated, escape, unusable, wrong_id, rate_limited)',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    refused: new Counter({
      name: 'care_watch_refused_total',
      help: 'Watch connections closed by the server, by reason (unknown_imei, not_a_watch, per_address, total, garbage, idle, login_timeout, wrong_id)',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
  };
}
export type WatchMetrics = ReturnType<typeof createWatchMetrics>;

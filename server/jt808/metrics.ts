// The JT/T 808 listener's counters, on the server's Prometheus registry.
import { Counter, Gauge, type Registry } from 'prom-client';

export function createJt808Metrics(registry: Registry) {
  return {
    connections: new Gauge({
      name: 'care_jt808_connections',
      help: 'JT/T 808 terminal connections open now',
      registers: [registry],
    }),
    frames: new Counter({
      name: 'care_jt808_frames_total',
      help: 'JT/T 808 frames, by outcome (ok, or why refused: garbage, escape, too_large, short, checksum, length, encrypted, subpackage, unusable, wrong_id, rate_limited)',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    refused: new Counter({
      name: 'care_jt808_refused_total',
      help: 'JT/T 808 connections closed by the server, by reason (unknown_terminal, not_a_watch, no_gateway, per_address, total, garbage, idle, login_timeout, wrong_id)',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
  };
}
export type Jt808Metrics = ReturnType<typeof createJt808Metrics>;

// The counters every device protocol's listener keeps, on the server's Prometheus registry, named
// care_<protocol>_connections, care_<protocol>_frames_total and care_<protocol>_refused_total.
import { Counter, Gauge, type Registry } from 'prom-client';

export interface DeviceListenerMetricsHelp {
  /** The metric names' middle part: `watch`, `jt808`. */
  protocol: string;
  connections: string;
  frames: string;
  refused: string;
}

export function createDeviceListenerMetrics(registry: Registry, help: DeviceListenerMetricsHelp) {
  return {
    connections: new Gauge({
      name: `care_${help.protocol}_connections`,
      help: help.connections,
      registers: [registry],
    }),
    frames: new Counter({
      name: `care_${help.protocol}_frames_total`,
      help: help.frames,
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    refused: new Counter({
      name: `care_${help.protocol}_refused_total`,
      help: help.refused,
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
  };
}
export type DeviceListenerMetrics = ReturnType<typeof createDeviceListenerMetrics>;

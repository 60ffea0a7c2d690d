// The alarm latency run again with Debian's Mosquitto as an external broker.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { mosquittoAvailable, startMosquitto } from '../../test/helpers/mosquitto.ts';
import { alarmPipelinePhase } from './alarm-pipeline.ts';
import { connectGateways, disconnectGateways, log, registerSite, type Settings, startServer } from './common.ts';

export async function mosquittoPhase(P: Settings) {
  if (!mosquittoAvailable()) return null;
  log('mosquitto: alarm latency through an external Mosquitto broker');
  const broker = await startMosquitto();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'care-bench-mosq-'));
  const server = await startServer(dataDir, { CARE_MQTT_URL: broker.adminUrl }, 'mosquitto');
  try {
    const site = await registerSite(server, 10);
    await connectGateways(server, site, `mqtt://127.0.0.1:${broker.port}`);
    const r = await alarmPipelinePhase(P, server, site, { withStorm: false });
    disconnectGateways(site);
    return {
      p50Ms: r.latency.p50Ms,
      p99Ms: r.latency.p99Ms,
      p999Ms: r.latency.p999Ms,
      delivered: r.latency.delivered,
      sent: r.latency.sent,
    };
  } finally {
    await server.stop();
    await broker.stop();
  }
}

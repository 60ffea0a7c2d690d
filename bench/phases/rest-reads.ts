// Authenticated REST reads: `GET /api/v1/alarms` with a caregiver's bearer token, as fast as
// autocannon can ask, against a server holding OPEN_ALARMS open alarms (a busy night on a large
// site). Reported: requests/s (target >= 10,000), latency p50/p99, errors and non-2xx answers.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { gatewayTopic } from '../../protocol/index.ts';
import { api, waitUntil } from '../lib.ts';
import { connectGateways, disconnectGateways, event, log, registerSite, type Settings, startServer } from './common.ts';

export const OPEN_ALARMS = 50;
const CONNECTIONS = Number(process.env.BENCH_REST_CONNECTIONS ?? 32);

export async function restReadsPhase(P: Settings) {
  log(`rest: GET /api/v1/alarms with ${OPEN_ALARMS} open alarms, ${CONNECTIONS} connections`);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'care-bench-rest-'));
  const server = await startServer(dataDir, {}, 'rest');
  try {
    const site = await registerSite(server, 2);
    await connectGateways(server, site);
    site.gateways.forEach((gw, g) => {
      for (let i = g; i < OPEN_ALARMS; i += site.gateways.length)
        gw.client?.publish(gatewayTopic(site.siteId, gw.id, 'events'), event(`r-${i}`, `r-${i}`, 'call'), { qos: 1 });
    });
    const route = '/api/v1/alarms';
    const open = await waitUntil(
      async () => (await api<{ alarms: unknown[] }>(server.url, 'GET', route, undefined, site.token)).alarms.length >= OPEN_ALARMS,
      30_000,
    );
    if (!open) throw new Error(`the ${OPEN_ALARMS} alarms did not open`);
    disconnectGateways(site);
    const bytes = (await (await fetch(`${server.url}${route}`, { headers: { authorization: `Bearer ${site.token}` } })).text()).length;
    const run = (seconds: number) =>
      autocannon({
        url: `${server.url}${route}`,
        connections: CONNECTIONS,
        duration: seconds,
        headers: { authorization: `Bearer ${site.token}` },
      });
    await run(1); // warm up (JIT, caches)
    const r = await run(Math.max(1, Math.round(P.restMs / 1000)));
    return {
      reqPerSec: Math.round(r.requests.average),
      requests: r.requests.total,
      p50Ms: r.latency.p50,
      p99Ms: r.latency.p99,
      maxMs: r.latency.max,
      errors: r.errors,
      timeouts: r.timeouts,
      non2xx: r.non2xx,
      failed: r.errors + r.non2xx,
      openAlarms: OPEN_ALARMS,
      responseBytes: bytes,
      connections: CONNECTIONS,
    };
  } finally {
    await server.stop();
  }
}

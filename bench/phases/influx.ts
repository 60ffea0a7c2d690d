// Telemetry into a real InfluxDB 1.x (the highest zero-loss rate), and a 24 h chart served from it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gatewayTopic } from '../../protocol/index.ts';
import { influxdAvailable, startInfluxd } from '../../test/helpers/influx.ts';
import { api, constantRate, waitUntil } from '../lib.ts';
import { timeChart } from './chart.ts';
import { connectGateways, log, login, registerSite, type Settings, startServer } from './common.ts';

export async function influxPhase(P: Settings) {
  if (!influxdAvailable()) return null;
  log('influx: telemetry points/s into InfluxDB 1.x');
  const influx = await startInfluxd();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'care-bench-influx-'));
  const server = await startServer(dataDir, { CARE_INFLUX_URL: influx.url, CARE_INFLUX_DATABASE: 'care' }, 'influx');
  const count = async (measurement: string) => {
    const r = await fetch(`${influx.url}/query?db=care&q=${encodeURIComponent(`SELECT count("value") FROM "${measurement}"`)}`);
    const body = (await r.json()) as { results: Array<{ series?: Array<{ values: Array<[string, number]> }> }> };
    return body.results[0]?.series?.[0]?.values[0]?.[1] ?? 0;
  };
  try {
    const site = await registerSite(server, 4);
    await connectGateways(server, site);
    let best = 0;
    let offset = 0;
    const T0 = Date.now() - 86_400_000;
    for (const rate of P.quick ? [5000, 10000] : [5000, 10000, 20000, 40000]) {
      const before = await count('spo2');
      const sent = await constantRate(rate / 500, P.stepMs, (i) => {
        const gw = site.gateways[i % site.gateways.length];
        // Distinct timestamps per device (InfluxDB keeps one point per series and time).
        const points = Array.from({ length: 500 }, (_, k) => ({
          device: `p-${k % 50}`,
          metric: 'spo2',
          value: 95,
          ts: new Date(T0 + (offset + i) * 10 + Math.floor(k / 50)).toISOString(),
        }));
        gw?.client?.publish(gatewayTopic(site.siteId, gw.id, 'telemetry'), JSON.stringify({ v: 1, ts: new Date().toISOString(), points }), {
          qos: 1,
        });
      });
      offset += sent;
      const ok = await waitUntil(async () => (await count('spo2')) - before >= sent * 500 * 0.999, 3000);
      if (!ok) break;
      best = rate;
    }
    // 24 h of 1 Hz heart rate for one resident, written straight to InfluxDB, then charted.
    const token = await login(server);
    const resident = await api<{ id: string }>(
      server.url,
      'POST',
      '/api/v1/residents',
      { siteId: site.siteId, name: 'R', room: '1' },
      token,
    );
    const now = Date.now();
    for (let chunk = 0; chunk < 86_400; chunk += 10_000) {
      const lines = [];
      for (let s = chunk; s < Math.min(chunk + 10_000, 86_400); s += 1)
        lines.push(`heart_rate,device=hr-1,resident=${resident.id},site=${site.siteId} value=${60 + (s % 20)} ${now - s * 1000}`);
      await fetch(`${influx.url}/write?db=care&precision=ms`, { method: 'POST', body: lines.join('\n') });
    }
    const chartMs = await timeChart(server.url, token, resident.id);
    for (const g of site.gateways) g.client?.end(true);
    return { telemetryPointsPerSec: best, chartMs };
  } finally {
    await server.stop();
    await influx.stop();
  }
}

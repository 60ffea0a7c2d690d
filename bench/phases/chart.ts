// A 24 h chart at 1 Hz for one resident, served from SQLite (and, in influx.ts, from InfluxDB).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import SQLite from 'better-sqlite3';
import { TELEMETRY_FILE } from '../../server/storage/db.ts';
import { api } from '../lib.ts';
import { log, login, startServer } from './common.ts';

/** The median of five timed chart queries after one to warm up, in ms. */
export async function timeChart(url: string, token: string, residentId: string): Promise<number> {
  const from = new Date(Date.now() - 86_400_000).toISOString();
  const route = `/api/v1/residents/${residentId}/telemetry?metric=heart_rate&from=${from}&to=${new Date().toISOString()}`;
  await api(url, 'GET', route, undefined, token); // warm
  const times: number[] = [];
  for (let i = 0; i < 5; i += 1) {
    const t = performance.now();
    await api(url, 'GET', route, undefined, token);
    times.push(performance.now() - t);
  }
  return Math.round((times.sort((a, b) => a - b)[2] ?? 0) * 10) / 10;
}

export async function chartPhase() {
  log('chart: 24 h of 1 Hz data from SQLite');
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'care-bench-chart-'));
  const server = await startServer(dataDir, {}, 'chart');
  try {
    const token = await login(server);
    const site = await api<{ id: string }>(server.url, 'POST', '/api/v1/sites', { name: 'C', kind: 'nursing_home' }, token);
    const resident = await api<{ id: string }>(server.url, 'POST', '/api/v1/residents', { siteId: site.id, name: 'R', room: '1' }, token);
    const db = new SQLite(path.join(dataDir, TELEMETRY_FILE));
    const insert = db.prepare('INSERT INTO telemetry (site_id, device_id, resident_id, metric, value, ts) VALUES (?, ?, ?, ?, ?, ?)');
    const now = Date.now();
    db.transaction(() => {
      for (let s = 0; s < 86_400; s += 1)
        insert.run(site.id, 'hr-1', resident.id, 'heart_rate', 60 + (s % 20), new Date(now - s * 1000).toISOString());
    })();
    db.close();
    return { sqliteMs: await timeChart(server.url, token, resident.id) };
  } finally {
    await server.stop();
  }
}

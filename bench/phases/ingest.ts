// Sustained ingest: call events, then telemetry points, at rising rates; the highest rate whose
// every event is in the store within a second of the last send (counted in SQLite) is reported.
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { gatewayTopic } from '../../protocol/index.ts';
import { TELEMETRY_FILE } from '../../server/storage/db.ts';
import { constantRate, type ServerProc, waitUntil } from '../lib.ts';
import { event, log, type Settings, type Site } from './common.ts';

function counter(dataDir: string) {
  const db = new SQLite(path.join(dataDir, 'care.db'), { readonly: true, fileMustExist: true });
  const events = db.prepare("SELECT count(*) AS n FROM events WHERE device_id LIKE 'i-%'");
  db.prepare('ATTACH DATABASE ? AS telemetry_db').run(path.join(dataDir, TELEMETRY_FILE));
  const points = db.prepare('SELECT count(*) AS n FROM telemetry_db.telemetry');
  return {
    events: () => (events.get() as { n: number }).n,
    points: () => (points.get() as { n: number }).n,
    close: () => db.close(),
  };
}

export async function ingestPhase(P: Settings, server: ServerProc, site: Site) {
  const count = counter(server.dataDir);
  let eventsPerSec = 0;
  let lost = 0;
  let offset = 0;
  /** The first rate that fell behind, and how much of it was stored within 1 s. */
  let fellBehindAt: { rate: number; storedWithin1s: number; sent: number } | null = null;
  for (const rate of P.ingestRates) {
    log(`ingest: ${rate} events/s for ${P.stepMs / 1000} s`);
    const before = count.events();
    const sent = await constantRate(rate, P.stepMs, (i) => {
      const gw = site.gateways[i % site.gateways.length];
      gw?.client?.publish(gatewayTopic(site.siteId, gw.id, 'events'), event(`i-${offset + i}`, `i-${(offset + i) % 500}`, 'presence'), {
        qos: 1,
      });
    });
    offset += sent;
    // Sustained means it keeps up: everything stored within a second of the last send.
    const kept = await waitUntil(() => count.events() - before >= sent, 1000);
    const stored = count.events() - before;
    if (!kept) {
      await waitUntil(() => count.events() - before >= sent, 15_000);
      lost = sent - (count.events() - before);
      fellBehindAt = { rate, storedWithin1s: stored, sent };
      log(`  fell behind: ${stored}/${sent} within 1 s`);
      break;
    }
    eventsPerSec = rate;
  }
  let pointsPerSec = 0;
  for (const rate of P.pointRates) {
    log(`ingest: ${rate} telemetry points/s for ${P.stepMs / 1000} s`);
    const before = count.points();
    const batches = rate / 500;
    const sent = await constantRate(batches, P.stepMs, (i) => {
      const gw = site.gateways[i % site.gateways.length];
      const ts = new Date().toISOString();
      const points = Array.from({ length: 500 }, (_, k) => ({ device: `p-${k % 50}`, metric: 'spo2', value: 95, ts }));
      gw?.client?.publish(gatewayTopic(site.siteId, gw.id, 'telemetry'), JSON.stringify({ v: 1, ts, points }), { qos: 1 });
    });
    const kept = await waitUntil(() => count.points() - before >= sent * 500, 1500);
    if (!kept) {
      await waitUntil(() => count.points() - before >= sent * 500, 15_000);
      log(`  fell behind at ${rate} points/s`);
      break;
    }
    pointsPerSec = rate;
  }
  count.close();
  return { eventsPerSec, telemetryPointsPerSec: pointsPerSec, lost, ratesTried: P.ingestRates, fellBehindAt };
}

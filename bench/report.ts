// The printed table of one run, and the headline figures that bench/repeat.ts summarises over runs.
// biome-ignore lint/suspicious/noExplicitAny: results are read back from JSON files too
type Results = Record<string, any>;

/** Headline figures: label, path in latest.json, and the target where issue 13 / DESIGN.md set one. */
export const HEADLINES: Array<[string, string, string?]> = [
  ['floor p50', 'floor.p50Ms'],
  ['floor p99', 'floor.p99Ms'],
  ['alarm p50', 'alarmLatency.p50Ms'],
  ['alarm p99', 'alarmLatency.p99Ms'],
  ['alarm p99.9', 'alarmLatency.p999Ms', '< 100 ms'],
  ['alarm max', 'alarmLatency.maxMs'],
  ['alarm p99 / floor p99', 'alarmLatency.p99OverFloorP99', '<= 3x'],
  ['alarms delivered to all screens', 'alarmLatency.deliveredToAllScreens'],
  ['server event-loop p99 (alarm phase)', 'alarmLatency.serverEventLoopP99Ms', '< 10 ms'],
  ['alarm phase CPU: server, % of a core', 'alarmLatency.cpu.serverPctOfCore'],
  ['alarm phase CPU: generator, % of a core', 'alarmLatency.cpu.generatorPctOfCore'],
  ['alarm phase CPU: machine busy, % of a core', 'alarmLatency.cpu.machineBusyPctOfCore'],
  ['storm of 1,000 p99', 'storm.p99Ms', '< 250 ms'],
  ['storm of 1,000 delivered', 'storm.delivered'],
  ['ingest events/s, zero loss', 'ingest.eventsPerSec', '>= 20,000'],
  ['ingest lost', 'ingest.lost'],
  ['ingest telemetry points/s', 'ingest.telemetryPointsPerSec'],
  ['gateways connected', 'gateways.connected', '10,000'],
  ['gateways MB RSS per 1,000', 'gateways.rssMbPer1000', '< 50 MB'],
  ['gateways: time to connect all (s)', 'gateways.connectSec'],
  ['REST GET /alarms req/s', 'restReads.reqPerSec', '>= 10,000'],
  ['REST GET /alarms p50', 'restReads.p50Ms'],
  ['REST GET /alarms p99', 'restReads.p99Ms'],
  ['REST errors + non-2xx', 'restReads.failed', '0'],
  ['gateway fsynced accepts/s', 'gateway.outboxAcceptsPerSec'],
  ['gateway delivered+confirmed/s', 'gateway.deliveredPerSec'],
  ['gateway radar frames parsed/s', 'gateway.radarFramesParsedPerSec'],
  ['InfluxDB points/s', 'influx.telemetryPointsPerSec'],
  ['chart 24 h SQLite', 'chartQuery24hMs.sqliteMs'],
  ['chart 24 h InfluxDB', 'influx.chartMs'],
  ['alarm p99 via Mosquitto', 'mosquitto.p99Ms'],
  ['cluster Redis p99 on A', 'cluster.redis.sameInstance.p99Ms'],
  ['cluster Redis p99 on B', 'cluster.redis.otherInstance.p99Ms'],
  ['cluster LISTEN/NOTIFY p99 on A', 'cluster.postgres.sameInstance.p99Ms'],
  ['cluster LISTEN/NOTIFY p99 on B', 'cluster.postgres.otherInstance.p99Ms'],
  ['duration (s)', 'durationSec'],
];

export function at(results: Results, dotted: string): unknown {
  let v: unknown = results;
  for (const k of dotted.split('.')) v = v === null || typeof v !== 'object' ? undefined : (v as Results)[k];
  return v;
}

const or = (v: unknown, missing = '-') => (v === null || v === undefined ? missing : String(v));

/** The table of one run, as `npm run bench` has printed it (rows for phases not run say so). */
export function tableRows(r: Results): Array<[string, string]> {
  const { floor, alarmLatency: a, storm, ingest, gateways: g, gateway, influx, chartQuery24hMs: chart, mosquitto, cluster, restReads } = r;
  const rows: Array<[string, string]> = [];
  if (floor) rows.push(['floor p50 / p99', `${floor.p50Ms} / ${floor.p99Ms} ms`]);
  if (a) {
    rows.push(
      ['alarm p50 / p99 / p99.9 / max', `${a.p50Ms} / ${a.p99Ms} / ${a.p999Ms} / ${a.maxMs} ms`],
      ['alarm p99 / floor p99', `${or(a.p99OverFloorP99)}x (target 3x)`],
      ['alarms delivered to all screens', `${a.deliveredToAllScreens} / ${a.sent}`],
      ['server event-loop p99', `${or(a.serverEventLoopP99Ms)} ms (target 10 ms)`],
    );
    if (a.cpu)
      rows.push([
        'CPU in the alarm phase, % of a core',
        `server ${or(a.cpu.serverPctOfCore)}, generator ${or(a.cpu.generatorPctOfCore)}, machine ${or(a.cpu.machineBusyPctOfCore)} of ${or(a.cpu.cores && a.cpu.cores * 100)}`,
      ]);
  }
  if (storm) rows.push(['storm of 1,000: delivered, p99', `${storm.delivered} / ${storm.sent}, ${storm.p99Ms} ms (target 250 ms)`]);
  if (ingest) {
    rows.push(
      ['ingest events/s (zero loss)', `${ingest.eventsPerSec} (lost ${ingest.lost}; tried ${or(ingest.ratesTried?.join(', '))})`],
      ['ingest telemetry points/s', `${ingest.telemetryPointsPerSec}`],
    );
  }
  if (g) {
    rows.push([
      'gateways connected',
      `${g.connected}, ${or(g.rssMbPer1000)} MB RSS per 1,000 (target 50); connected in ${g.connectSec} s (registered in ${g.registerSec} s)`,
    ]);
  }
  if (restReads) {
    rows.push([
      'REST GET /alarms (authenticated)',
      `${restReads.reqPerSec} req/s (target 10,000), p50 / p99 ${restReads.p50Ms} / ${restReads.p99Ms} ms, ${restReads.failed} failed, ${restReads.openAlarms} open alarms`,
    ]);
  }
  if (gateway) {
    rows.push([
      'one gateway: fsynced accepts/s, delivered+confirmed/s, radar frames parsed/s',
      `${gateway.outboxAcceptsPerSec} / ${gateway.deliveredPerSec} / ${gateway.radarFramesParsedPerSec}`,
    ]);
  }
  if ('influx' in r) rows.push(['InfluxDB 1.x points/s (zero loss)', influx ? `${influx.telemetryPointsPerSec}` : 'influxd not installed']);
  if (chart) rows.push(['chart, 24 h at 1 Hz (SQLite / InfluxDB)', `${chart.sqliteMs} / ${or(influx?.chartMs)} ms`]);
  if ('mosquitto' in r) {
    rows.push([
      'alarm p50 / p99 via Mosquitto',
      mosquitto ? `${mosquitto.p50Ms} / ${mosquitto.p99Ms} ms (embedded: ${or(a?.p50Ms)} / ${or(a?.p99Ms)})` : 'mosquitto not installed',
    ]);
  }
  if (cluster) {
    for (const k of ['redis', 'postgres'] as const) {
      const c = cluster[k];
      rows.push([
        `cluster (${k === 'redis' ? 'Redis' : 'LISTEN/NOTIFY'}): alarm p50 / p99 on A, on B`,
        c
          ? `${c.sameInstance.p50Ms} / ${c.sameInstance.p99Ms} ms, ${c.otherInstance.p50Ms} / ${c.otherInstance.p99Ms} ms; ${c.delivered} / ${c.sent} delivered`
          : `${k} not installed`,
      ]);
    }
  }
  rows.push(['duration', `${r.durationSec} s`]);
  return rows;
}

export function printRows(rows: Array<[string, string]>, width = 34) {
  for (const [k, v] of rows) console.log(`  ${k.padEnd(width)} ${v}`);
}

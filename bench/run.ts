// `npm run bench` (and `npm run bench -- --quick`, under 60 s): measures the floor of the stack
// (bare Aedes + mqtt.js QoS 1 to a WebSocket), alarm latency through the whole pipeline under
// background telemetry, an alarm storm, sustained ingest with zero loss, connected gateways,
// authenticated REST reads, one gateway's own figures, InfluxDB, chart queries, an external
// Mosquitto and two-instance clusters. Prints a table and writes bench/results/latest.json.
// Each phase is a file of its own in bench/phases/. `--runs N` runs the whole bench N times, each in
// a fresh process, and writes the median and spread of every figure (bench/repeat.ts).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { root } from './lib.ts';
import { alarmPhaseDevices, alarmPipelinePhase } from './phases/alarm-pipeline.ts';
import { chartPhase } from './phases/chart.ts';
import { clusterPhase } from './phases/cluster.ts';
import {
  connectGateways,
  disconnectGateways,
  EVENT_RATE,
  hearDevices,
  log,
  registerDevices,
  registerSite,
  SCREENS,
  settings,
  startServer,
  TELEMETRY_RATE,
} from './phases/common.ts';
import { floorPhase } from './phases/floor.ts';
import { gatewayFiguresPhase } from './phases/gateway-figures.ts';
import { gatewaysPhase } from './phases/gateways.ts';
import { influxPhase } from './phases/influx.ts';
import { ingestPhase } from './phases/ingest.ts';
import { mosquittoPhase } from './phases/mosquitto.ts';
import { restReadsPhase } from './phases/rest-reads.ts';
import { repeat } from './repeat.ts';
import { printRows, tableRows } from './report.ts';

const PHASES = ['floor', 'alarm', 'gateway', 'gateways', 'rest', 'influx', 'chart', 'mosquitto', 'cluster'] as const;
type Phase = (typeof PHASES)[number];

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean' },
    runs: { type: 'string', default: '1' },
    only: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  console.log(`Usage: npm run bench [-- --quick] [-- --runs N] [-- --only phase,phase]

Writes bench/results/latest.json. --quick finishes within 60 s.
--runs N   runs the bench N times, each in a fresh process, keeps each run as
           bench/results/run-<i>.json and writes bench/results/summary.json with the
           median and min-max spread of every figure.
--only     runs only these phases (${PHASES.join(', ')}; 'alarm' includes the storm and
           ingest) and writes bench/results/partial.json instead of latest.json.
Environment: BENCH_GATEWAYS (full run: 10000), BENCH_CONNECT_CONCURRENCY [64],
BENCH_REST_CONNECTIONS [32], BENCH_TELEMETRY_RATE [20000],
BENCH_CPU_PROF_PHASE=<phase> with BENCH_CPU_PROF_DIR=<dir> profiles that phase's server.`);
  process.exit(0);
}
const quick = Boolean(values.quick);
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs takes a whole number of runs, 1 or more');
const only = values.only ? new Set(values.only.split(',').map((s) => s.trim())) : null;
for (const p of only ?? []) if (!PHASES.includes(p as Phase)) throw new Error(`unknown phase ${p}; phases: ${PHASES.join(', ')}`);
const want = (p: Phase) => !only || only.has(p);

async function once() {
  const P = settings(quick);
  const started = Date.now();
  const results: Record<string, unknown> = {
    when: new Date().toISOString(),
    mode: quick ? 'quick' : 'full',
    machine: { cpus: os.cpus().length, node: process.version, loadAverage: os.loadavg().map((l) => Math.round(l * 100) / 100) },
  };
  const floor = want('floor') ? await floorPhase(P) : null;
  if (floor) results.floor = { p50Ms: floor.p50Ms, p99Ms: floor.p99Ms, p999Ms: floor.p999Ms, maxMs: floor.maxMs, ratePerSec: EVENT_RATE };
  if (want('alarm')) {
    // The alarm pipeline, the storm and ingest share one server, as they always have.
    const server = await startServer(fs.mkdtempSync(path.join(os.tmpdir(), 'care-bench-')), {}, 'alarm');
    try {
      const site = await registerSite(server, 10);
      const t0 = Date.now();
      const devices = alarmPhaseDevices(site.gateways.length, P.alarmMs);
      await registerDevices(server, site, devices);
      await connectGateways(server, site);
      await hearDevices(server, site, devices);
      log(`registered and heard the alarm phase's ${devices.length} devices in ${Date.now() - t0} ms`);
      const pipeline = await alarmPipelinePhase(P, server, site);
      results.alarmLatency = {
        p50Ms: pipeline.latency.p50Ms,
        p99Ms: pipeline.latency.p99Ms,
        p999Ms: pipeline.latency.p999Ms,
        maxMs: pipeline.latency.maxMs,
        eventsPerSec: EVENT_RATE,
        telemetryPointsPerSec: TELEMETRY_RATE,
        screens: SCREENS,
        sent: pipeline.latency.sent,
        deliveredToAllScreens: pipeline.latency.delivered,
        p99OverFloorP99: floor ? Math.round((pipeline.latency.p99Ms / floor.p99Ms) * 10) / 10 : null,
        serverEventLoopP99Ms: pipeline.eventLoopP99Ms,
        cpu: pipeline.cpu,
      };
      results.storm = pipeline.storm;
      results.ingest = await ingestPhase(P, server, site);
      disconnectGateways(site);
    } finally {
      await server.stop();
    }
  }
  if (want('gateway')) results.gateway = await gatewayFiguresPhase(P);
  if (want('gateways')) results.gateways = await gatewaysPhase(P);
  if (want('rest')) results.restReads = await restReadsPhase(P);
  if (want('influx')) results.influx = await influxPhase(P);
  if (want('chart')) results.chartQuery24hMs = await chartPhase();
  if (want('mosquitto')) results.mosquitto = await mosquittoPhase(P);
  if (want('cluster')) results.cluster = await clusterPhase(P);
  results.durationSec = Math.round((Date.now() - started) / 1000);

  const file = only ? 'partial.json' : 'latest.json';
  fs.mkdirSync(path.join(root, 'bench/results'), { recursive: true });
  fs.writeFileSync(path.join(root, 'bench/results', file), `${JSON.stringify(results, null, 2)}\n`);
  const machine = results.machine as { cpus: number; node: string; loadAverage: number[] };
  console.log(
    `\nBenchmark (${results.mode}) on ${machine.cpus} cores, ${machine.node}, load average at start ${machine.loadAverage.join(' ')}`,
  );
  printRows(tableRows(results));
  console.log(`\nWrote bench/results/${file}`);
}

(runs > 1 ? repeat(runs, process.argv.slice(2)) : once()).then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);

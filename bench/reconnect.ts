// Reconnect storm (issue 13, item 5): N real gateway uplinks (gateway/uplink, the code a gateway
// runs, each its own MQTT client and login) connected to a server child process; the server is
// killed with SIGKILL and started again on the same ports and data; measured: the time until every
// uplink is back, how the reconnections spread, and the server's CPU while they come back.
//
//   npx tsx bench/reconnect.ts [--gateways 2000] [--mode jitter|fixed]
//
// `--mode fixed` runs the same uplinks with a constant 2 s retry (the old behaviour) to compare.
// Prints one JSON object. The uplinks' outboxes are in memory: this measures the connection path,
// not the disk.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import type { Outbox } from '../gateway/outbox/outbox.ts';
import { createUplink, type Uplink } from '../gateway/uplink/uplink.ts';
import { busiestWindow } from '../test/helpers/spread.ts';
import { freePort, type ServerProc, startServerProcess, waitUntil } from './lib.ts';
import { registerSite } from './phases/common.ts';

const { values } = parseArgs({
  options: {
    gateways: { type: 'string', default: '2000' },
    mode: { type: 'string', default: 'jitter' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  console.log('Usage: npx tsx bench/reconnect.ts [--gateways 2000] [--mode jitter|fixed]');
  process.exit(0);
}
const N = Number(values.gateways);
const say = (m: string) => process.stderr.write(`${new Date().toISOString()} ${m}\n`);
const fixed = values.mode === 'fixed';

/** An outbox with nothing in it: the uplink asks, finds nothing, and only connects. */
const emptyOutbox = {
  pendingEvents: () => [],
  oldestTelemetry: () => [],
  confirm: () => 0,
  removeTelemetry: () => {},
} as unknown as Outbox;

/** The server's CPU seconds so far (user + system), from /proc. */
function cpuSeconds(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of stat(5), in clock ticks (100 a second on Linux).
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'care-bench-reconnect-'));
const env = {
  CARE_HTTP_PORT: String(await freePort()),
  CARE_MQTT_PORT: String(await freePort()),
  CARE_LOG_LEVEL: 'error',
  // Every uplink here comes from 127.0.0.1; real gateways come from their own addresses, so the
  // per-address guard (100 waiting logins) would stand in for a limit they never meet.
  CARE_MQTT_MAX_PENDING_PER_ADDRESS: '1000',
};
let server: ServerProc = await startServerProcess(dataDir, env, 300_000);
// Never leave a server behind, whatever ends this run.
process.on('exit', () => server.child.kill('SIGKILL'));
say(`server up; registering ${N} gateways`);
const site = await registerSite(server, N, 8);
const gateways = site.gateways;

const backAt = new Map<string, number>();
let attempts = 0;
const counting = pino({ level: 'debug' }, { write: (line: string) => void (line.includes('"uplink connecting"') && attempts++) });
const uplinks: Uplink[] = gateways.map((g) =>
  createUplink(
    {
      url: server.mqttUrl,
      siteId: site.siteId,
      gatewayId: g.id,
      secret: g.secret,
      ...(fixed ? { backoff: { baseMs: 2000, capMs: 2000, random: () => 1 - Number.EPSILON } } : {}),
    },
    emptyOutbox,
    counting,
    { onConnectionChange: (up) => up && backAt.set(g.id, Date.now()) },
  ),
);
say('connecting the uplinks');
const t0 = Date.now();
for (const u of uplinks) u.start();
if (!(await waitUntil(() => uplinks.every((u) => u.connected), 600_000))) throw new Error('not every uplink connected at first');
const firstConnectMs = Date.now() - t0;

say(`all ${N} connected in ${firstConnectMs} ms; kill -9 of the server`);
backAt.clear();
attempts = 0;
const killedAt = Date.now();
server.child.kill('SIGKILL');
await new Promise((r) => server.child.once('exit', r));
server = await startServerProcess(dataDir, env, 300_000);
const upAt = Date.now();
say('server up again');
const pid = server.child.pid as number;
const cpuAtUp = cpuSeconds(pid);
// CPU per second while they come back, for the peak.
const perSecond: number[] = [];
let last = cpuAtUp;
const sampler = setInterval(() => {
  const now = cpuSeconds(pid);
  perSecond.push(Math.round((now - last) * 100));
  last = now;
}, 1000);
const allBack = await waitUntil(() => uplinks.every((u) => u.connected), 600_000);
const doneAt = Date.now();
clearInterval(sampler);
const cpuUsed = cpuSeconds(pid) - cpuAtUp;
const back = [...backAt.values()];

console.log(
  JSON.stringify(
    {
      gateways: N,
      mode: fixed ? 'fixed 2 s' : 'full jitter (base 1 s, cap 30 s)',
      maxPendingLogins: 1000,
      cpus: os.cpus().length,
      loadAverageAtEnd: os.loadavg().map((l) => Math.round(l * 100) / 100),
      firstConnectAllMs: firstConnectMs,
      allBack,
      serverRestartMs: upAt - killedAt,
      allBackAfterKillMs: doneAt - killedAt,
      allBackAfterServerUpMs: doneAt - upAt,
      connectionAttemptsAfterKill: attempts,
      reconnectSpreadMs: back.length > 0 ? Math.max(...back) - Math.min(...back) : null,
      busiestSecond: busiestWindow(back, 1000),
      serverCpuSeconds: Math.round(cpuUsed * 100) / 100,
      serverCpuPercentAverage: Math.round((cpuUsed / ((doneAt - upAt) / 1000)) * 100),
      serverCpuPercentPerSecond: perSecond,
      serverRssMb: Math.round(server.rssMb()),
    },
    null,
    2,
  ),
);
await Promise.all(uplinks.map((u) => u.stop()));
await server.stop();
fs.rmSync(dataDir, { recursive: true, force: true });
process.exit(0);

// CPU time the server spends per `GET /api/v1/alarms` (the bench's `rest` phase), read from the
// kernel rather than from the request rate: on a machine shared with other work the rate follows
// the CPU share the server is given, the CPU time a request costs hardly does.
//
//   npx tsx bench/rest-cpu.ts [runs=5] [seconds=3]
//
// One server (as the phase starts it: 50 open alarms, the admin's bearer token), then `runs`
// autocannon runs of `seconds` each (32 connections); for each run: requests, req/s, and the
// server's main-thread and whole-process CPU (utime + stime from /proc) divided by the requests.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { gatewayTopic } from '../protocol/index.ts';
import { api, waitUntil } from './lib.ts';
import { connectGateways, disconnectGateways, event, registerSite, startServer } from './phases/common.ts';
import { OPEN_ALARMS } from './phases/rest-reads.ts';

const runs = Number(process.argv[2] ?? 5);
const seconds = Number(process.argv[3] ?? 3);
const TICK_US = 1e6 / 100; // USER_HZ: /proc counts CPU time in 1/100 s

/** utime + stime of a /proc stat line, in µs (fields 14 and 15, after the parenthesised name). */
function cpuUs(statPath: string): number {
  const fields = fs.readFileSync(statPath, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) * TICK_US;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? (s[(s.length - 1) / 2] as number) : ((s[s.length / 2 - 1] as number) + (s[s.length / 2] as number)) / 2;
};

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'care-bench-rest-cpu-'));
const server = await startServer(dataDir, {});
try {
  const pid = server.child.pid as number;
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
  const run = (s: number) =>
    autocannon({ url: `${server.url}${route}`, connections: 32, duration: s, headers: { authorization: `Bearer ${site.token}` } });
  await run(3); // warm up (JIT, caches)
  const rows: Array<{ reqPerSec: number; mainUs: number; processUs: number }> = [];
  console.log(
    `load average ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
  for (let i = 0; i < runs; i += 1) {
    const main0 = cpuUs(`/proc/${pid}/task/${pid}/stat`);
    const proc0 = cpuUs(`/proc/${pid}/stat`);
    const r = await run(seconds);
    const n = r.requests.total;
    const failed = r.errors + r.non2xx;
    const row = {
      reqPerSec: Math.round(r.requests.average),
      mainUs: Math.round((cpuUs(`/proc/${pid}/task/${pid}/stat`) - main0) / n),
      processUs: Math.round((cpuUs(`/proc/${pid}/stat`) - proc0) / n),
    };
    rows.push(row);
    console.log(
      `run ${i + 1}: ${n} requests, ${row.reqPerSec} req/s, main thread ${row.mainUs} µs/request, process ${row.processUs} µs/request${failed ? `, ${failed} FAILED` : ''}`,
    );
  }
  const summary = (k: 'reqPerSec' | 'mainUs' | 'processUs') => {
    const xs = rows.map((r) => r[k]);
    return `${median(xs)} (${Math.min(...xs)}-${Math.max(...xs)})`;
  };
  console.log(
    `median (min-max): ${summary('reqPerSec')} req/s; main thread ${summary('mainUs')} µs/request; process ${summary('processUs')} µs/request`,
  );
  console.log(
    `load average ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
} finally {
  await server.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
}

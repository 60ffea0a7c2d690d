// Connected gateways: N gateways registered, each connected (a login the server checks against the
// gateway's scrypt secret hash), subscribed to its command topic and online with a retained status.
// Reported: the server's resident memory per 1,000 connected gateways (target < 50 MB), and how
// long registering and connecting them took. Connections are opened `CONNECT_CONCURRENCY` at a
// time, as a fleet coming up after a restart would; each holds a socket in this process and one in
// the server's, so both need an open-files limit above N.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import mqtt, { type MqttClient } from 'mqtt';
import { gatewayTopic } from '../../protocol/index.ts';
import { log, mapLimit, ms, registerSite, type Settings, startServer } from './common.ts';

const CONNECT_CONCURRENCY = Number(process.env.BENCH_CONNECT_CONCURRENCY ?? 64);
const REGISTER_CONCURRENCY = 16;

/** The soft open-files limit of this process (what the server child inherits). */
function openFilesLimit(): number {
  try {
    return Number(execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim());
  } catch {
    return Number.NaN;
  }
}

/** Raises this process's soft open-files limit towards `want` (up to the hard limit) with prlimit. */
function raiseOpenFiles(want: number): number {
  try {
    const hard = Number(execFileSync('sh', ['-c', 'ulimit -Hn'], { encoding: 'utf8' }).trim());
    const soft = hard === Number.POSITIVE_INFINITY || Number.isNaN(hard) ? want : Math.min(want, hard);
    execFileSync('prlimit', ['--pid', String(process.pid), `--nofile=${soft}:`]);
  } catch (err) {
    log(`  could not raise the open-files limit: ${(err as Error).message}`);
  }
  return openFilesLimit();
}

export async function gatewaysPhase(P: Settings) {
  const n = P.gateways;
  // Sockets, plus the server's database, log and module files; the margin is generous.
  const need = n + 1000;
  let limit = openFilesLimit();
  if (Number.isFinite(limit) && limit < need) limit = raiseOpenFiles(need);
  log(`gateways: ${n} authenticated gateways with heartbeats (open-files limit ${limit})`);
  if (Number.isFinite(limit) && limit < need) {
    throw new Error(
      `the open-files limit (ulimit -n = ${limit}) is below ${need} and the hard limit stops raising it: set BENCH_GATEWAYS lower`,
    );
  }
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'care-bench-gw-'));
  const server = await startServer(dataDir, {}, 'gateways');
  const clients: MqttClient[] = [];
  try {
    let t0 = performance.now();
    const site = await registerSite(server, n, REGISTER_CONCURRENCY);
    const registerMs = ms(t0);
    log(`  registered ${n} in ${(registerMs / 1000).toFixed(1)} s`);
    await new Promise((r) => setTimeout(r, 1000));
    const before = server.rssMb();
    const connectTimes: number[] = [];
    let failed = 0;
    t0 = performance.now();
    await mapLimit(site.gateways, CONNECT_CONCURRENCY, async (g) => {
      const t = performance.now();
      try {
        const c = await mqtt.connectAsync(server.mqttUrl, {
          clientId: g.id,
          username: g.id,
          password: g.secret,
          reconnectPeriod: 0,
          keepalive: 60,
          connectTimeout: 60_000,
        });
        clients.push(c);
        await c.subscribeAsync(gatewayTopic(site.siteId, g.id, 'cmd'), { qos: 1 });
        await c.publishAsync(
          gatewayTopic(site.siteId, g.id, 'status'),
          JSON.stringify({ v: 1, state: 'online', ts: new Date().toISOString() }),
          { qos: 1, retain: true },
        );
        connectTimes.push(performance.now() - t);
      } catch (err) {
        failed += 1;
        if (failed <= 3) log(`  connect failed: ${(err as Error).message}`);
      }
    });
    const connectMs = ms(t0);
    const connected = clients.filter((c) => c.connected).length;
    log(`  connected ${connected}/${n} in ${(connectMs / 1000).toFixed(1)} s`);
    await new Promise((r) => setTimeout(r, 2000));
    const after = server.rssMb();
    connectTimes.sort((a, b) => a - b);
    const pct = (p: number) =>
      Math.round(connectTimes[Math.min(connectTimes.length - 1, Math.floor((connectTimes.length * p) / 100))] ?? 0);
    return {
      connected,
      failed,
      rssMbPer1000: connected === 0 ? null : Math.round(((after - before) / connected) * 1000 * 10) / 10,
      serverRssMb: Math.round(after),
      registerSec: Math.round(registerMs / 100) / 10,
      connectSec: Math.round(connectMs / 100) / 10,
      connectsPerSec: Math.round((connected / connectMs) * 1000),
      connectConcurrency: CONNECT_CONCURRENCY,
      connectP50Ms: pct(50),
      connectP99Ms: pct(99),
      openFilesLimit: limit,
    };
  } finally {
    for (const c of clients) c.end(true);
    await server.stop();
  }
}

// A throwaway InfluxDB 1.x (`influxd` from Debian's `influxdb` package) on loopback ports with its
// own data directory. It can be killed and started again on the same directory and port.
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './processes.ts';

export const INFLUXD = '/usr/bin/influxd';
export const influxdAvailable = () => fs.existsSync(INFLUXD);

export interface Influxd {
  url: string;
  kill(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export async function startInfluxd(): Promise<Influxd> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'care-influx-'));
  const httpPort = await freePort();
  const rpcPort = await freePort();
  const conf = path.join(dir, 'influxdb.conf');
  fs.writeFileSync(
    conf,
    `reporting-disabled = true
bind-address = "127.0.0.1:${rpcPort}"
[meta]
  dir = "${dir}/meta"
[data]
  dir = "${dir}/data"
  wal-dir = "${dir}/wal"
  query-log-enabled = false
[http]
  bind-address = "127.0.0.1:${httpPort}"
  log-enabled = false
[monitor]
  store-enabled = false
`,
  );
  const url = `http://127.0.0.1:${httpPort}`;
  let child: ChildProcess | null = null;
  async function start() {
    child = spawn(INFLUXD, ['-config', conf], { stdio: 'ignore' });
    const deadline = Date.now() + 20_000;
    for (;;) {
      try {
        if ((await fetch(`${url}/ping`)).status === 204) return;
      } catch {
        // not up yet
      }
      if (Date.now() > deadline) throw new Error('influxd did not start');
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const halt = async (signal: NodeJS.Signals) => {
    const c = child;
    if (!c || c.exitCode !== null) return;
    c.kill(signal);
    await new Promise((r) => c.once('exit', r));
  };
  await start();
  return {
    url,
    start,
    kill: () => halt('SIGKILL'),
    async stop() {
      await halt('SIGTERM');
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

// A throwaway Redis server from Debian's `redis-server` package: its own port on loopback, no
// disk persistence, a password (instances must present it), stopped and removed after the test.
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, waitForPort } from './processes.ts';

const BIN = '/usr/bin/redis-server';

export function redisAvailable(): boolean {
  return fs.existsSync(BIN);
}

export interface RedisServer {
  url: string;
  port: number;
  /** Stops the server, keeping its port, so `start()` can bring it back there. */
  kill(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export async function startRedis(password = 'redis-test-password'): Promise<RedisServer> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'care-redis-'));
  const port = await freePort();
  let child: ChildProcess | null = null;
  async function start() {
    const c = spawn(
      BIN,
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--requirepass', password],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child = c;
    let output = '';
    const collect = (d: Buffer) => {
      output += d.toString();
    };
    c.stdout?.on('data', collect);
    c.stderr?.on('data', collect);
    await waitForPort(port, c, 'redis-server', () => output);
  }
  async function kill() {
    const c = child;
    child = null;
    if (c && c.exitCode === null) {
      c.kill('SIGKILL');
      await new Promise((r) => c.once('exit', r));
    }
  }
  await start();
  return {
    port,
    url: `redis://:${password}@127.0.0.1:${port}`,
    kill,
    start,
    async stop() {
      await kill();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

// A throwaway Redis server from Debian's `redis-server` package: its own port on loopback, no
// disk persistence, a password (instances must present it), stopped and removed after the test.
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './processes.ts';

const BIN = '/usr/bin/redis-server';

export function redisAvailable(): boolean {
  return fs.existsSync(BIN);
}

export interface RedisServer {
  url: string;
  port: number;
  stop(): Promise<void>;
}

export async function startRedis(password = 'redis-test-password'): Promise<RedisServer> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'care-redis-'));
  const port = await freePort();
  const child: ChildProcess = spawn(
    BIN,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--requirepass', password],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout?.on('data', (d: Buffer) => {
    output += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    output += d.toString();
  });
  const deadline = Date.now() + 10_000;
  for (;;) {
    const up = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (up) break;
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`redis-server did not start: ${output}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port,
    url: `redis://:${password}@127.0.0.1:${port}`,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((r) => child.once('exit', r));
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

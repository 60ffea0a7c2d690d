// Child processes for fault tests: the real `server/main.ts` and `gateway/main.ts`, compiled from
// the current source by the global setup (test/helpers/entries.ts; through tsx without it), their
// pino lines collected so a test can wait on what they logged.
import { type ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { inject } from 'vitest';
import { freePort } from '../../scripts/free-port.ts';
import { nodeArgsFor } from './entries.ts';

export { freePort };

const root = path.resolve(import.meta.dirname, '../..');

export interface Proc {
  child: ChildProcess;
  lines: Array<Record<string, unknown>>;
  output: string[];
  exited: Promise<number | null>;
  kill9(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * `wrap` runs the process through another command (e.g. `unshare` to give it its own mounts): it
 * gets node's path and arguments and returns the command line to spawn.
 */
export function startProcess(
  script: string,
  env: NodeJS.ProcessEnv,
  wrap: (node: string, args: string[]) => [string, string[]] = (node, args) => [node, args],
): Proc {
  const [command, args] = wrap(process.execPath, nodeArgsFor(script, inject('compiledEntries')));
  const child = spawn(command, args, {
    cwd: root,
    env: { ...process.env, CARE_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Array<Record<string, unknown>> = [];
  const output: string[] = [];
  let rest = '';
  const onData = (chunk: Buffer) => {
    const parts = (rest + chunk.toString()).split('\n');
    rest = parts.pop() ?? '';
    for (const l of parts) {
      output.push(l);
      if (l.startsWith('{')) {
        try {
          lines.push(JSON.parse(l) as Record<string, unknown>);
        } catch {
          // not a log line
        }
      }
    }
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', (c: Buffer) => output.push(c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    lines,
    output,
    exited,
    async kill9() {
      child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Waits until `port` on loopback accepts a connection; fails if `child` exits or 10 s pass. */
export async function waitForPort(port: number, child: ChildProcess, what: string, output: () => string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const up = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (up) return;
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`${what} did not start: ${output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// Runs the simulator CLI as a child process (compiled from the current source by the global setup,
// see test/helpers/entries.ts), the way an installer would, and collects its output and exit code.
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { inject } from 'vitest';
import { nodeArgsFor } from '../helpers/entries.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');

export interface SimRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function startSim(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): { child: ChildProcess; done: Promise<SimRun>; stderrSoFar(): string } {
  const child = spawn(process.execPath, [...nodeArgsFor('simulators/main.ts', inject('compiledEntries')), ...args], {
    cwd: ROOT,
    env: { ...process.env, CARE_SITE_ID: '', CARE_GATEWAY_ID: '', CARE_GATEWAY_SECRET: '', CARE_UPLINK_URL: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d) => {
    stdout += String(d);
  });
  child.stderr?.on('data', (d) => {
    stderr += String(d);
  });
  const done = new Promise<SimRun>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  return { child, done, stderrSoFar: () => stderr };
}

export function runSim(args: string[], env: NodeJS.ProcessEnv = {}): Promise<SimRun> {
  return startSim(args, env).done;
}

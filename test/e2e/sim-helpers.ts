// Runs the simulator CLI as a child process (node --import tsx), the way an installer would, and
// collects its output and exit code.
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';

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
  const child = spawn(process.execPath, ['--import', 'tsx', 'simulators/main.ts', ...args], {
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

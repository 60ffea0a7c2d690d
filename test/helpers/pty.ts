// A linked pair of pseudo-terminals (socat), for a gateway's serial input or alarm output line.
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { tempDir, waitFor } from './harness.ts';

export async function ptyPair(): Promise<{ a: string; b: string; proc: ChildProcess }> {
  const dir = tempDir('care-pty-');
  const a = path.join(dir, 'a');
  const b = path.join(dir, 'b');
  const proc = spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], { stdio: 'ignore' });
  await waitFor(() => fs.existsSync(a) && fs.existsSync(b), 'socat pty pair');
  return { a, b, proc };
}

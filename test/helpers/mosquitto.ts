// A throwaway Mosquitto 2 broker from Debian's package, with the dynamic-security plugin and no
// anonymous access: the external broker that server instances join in external broker mode.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, waitForPort } from './processes.ts';

const PLUGIN = '/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so';

export function mosquittoAvailable(): boolean {
  return fs.existsSync('/usr/sbin/mosquitto') && fs.existsSync(PLUGIN) && fs.existsSync('/usr/bin/mosquitto_ctrl');
}

export interface Mosquitto {
  port: number;
  adminUrl: string;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export async function startMosquitto(adminPassword = 'broker-admin-password'): Promise<Mosquitto> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'care-mosquitto-'));
  const dynsec = path.join(dir, 'dynamic-security.json');
  execFileSync('mosquitto_ctrl', ['dynsec', 'init', dynsec, 'care-admin', adminPassword], { stdio: 'ignore' });
  const port = await freePort();
  const conf = path.join(dir, 'mosquitto.conf');
  fs.writeFileSync(
    conf,
    [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous false',
      `plugin ${PLUGIN}`,
      `plugin_opt_config_file ${dynsec}`,
      'persistence false',
      'user root',
      'log_dest stderr',
      'log_type error',
      'log_type warning',
      '',
    ].join('\n'),
  );
  let child: ChildProcess | null = null;
  async function start() {
    const c = spawn('/usr/sbin/mosquitto', ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    child = c;
    let stderr = '';
    c.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    await waitForPort(port, c, 'mosquitto', () => stderr);
  }
  async function kill(signal: NodeJS.Signals) {
    const c = child;
    child = null;
    if (c && c.exitCode === null) {
      c.kill(signal);
      await new Promise((r) => c.once('exit', r));
    }
  }
  await start();
  return {
    port,
    adminUrl: `mqtt://care-admin:${adminPassword}@127.0.0.1:${port}`,
    /** Kills the broker and starts it again on the same port (dynamic-security state is on disk). */
    async restart() {
      await kill('SIGKILL');
      await start();
    },
    async stop() {
      await kill('SIGTERM');
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

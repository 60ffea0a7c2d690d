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
  const child: ChildProcess = spawn('/usr/sbin/mosquitto', ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  await waitForPort(port, child, 'mosquitto', () => stderr);
  return {
    port,
    adminUrl: `mqtt://care-admin:${adminPassword}@127.0.0.1:${port}`,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

// The documented backup and restore commands, run as a person would, against a running server.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import type { Alarm } from '../../protocol/index.ts';
import { nodeArgsFor } from '../helpers/entries.ts';
import { registerSite, Screen, startTestGateway, startTestServer, tempDir } from '../helpers/harness.ts';

const root = path.resolve(import.meta.dirname, '../..');
const backup = (args: string[], dataDir: string) =>
  execFileSync(process.execPath, [...nodeArgsFor('server/backup.ts', inject('compiledEntries')), ...args], {
    cwd: root,
    env: { ...process.env, CARE_DATA_DIR: dataDir },
    encoding: 'utf8',
  });

describe('backup and restore', () => {
  it('a backup taken while the server runs restores the alarms it held', async () => {
    const dataDir = tempDir();
    const server = await startTestServer(dataDir);
    const site = await registerSite(server);
    const gateway = await startTestGateway(server, site);
    const screen = await Screen.open(server);
    gateway.sink.event({ device: 'btn-203', type: 'call' });
    const alarm = await screen.waitForAlarm((a) => a.type === 'call');
    const file = path.join(tempDir(), 'care-backup.db');
    expect(backup([file], dataDir)).toMatch(/backed up/);
    screen.close();
    await gateway.stop();
    await server.stop();

    const fresh = tempDir();
    expect(backup(['--restore', file], fresh)).toMatch(/restored/);
    const restored = await startTestServer(fresh);
    const list = await restored.api<{ alarms: Alarm[] }>('GET', '/api/v1/alarms');
    expect(list.body.alarms.map((a) => a.id)).toContain(alarm.id);
    await restored.stop();
  });
});

// The documented backup and restore commands, run as a person would, against a running server.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import type { Alarm } from '../../protocol/index.ts';
import { nodeArgsFor } from '../helpers/entries.ts';
import { registerSite, Screen, startTestGateway, startTestServer, tempDir, waitFor } from '../helpers/harness.ts';

const root = path.resolve(import.meta.dirname, '../..');
const backup = (args: string[], dataDir: string) =>
  execFileSync(process.execPath, [...nodeArgsFor('server/backup.ts', inject('compiledEntries')), ...args], {
    cwd: root,
    env: { ...process.env, CARE_DATA_DIR: dataDir },
    encoding: 'utf8',
  });

describe('backup and restore', () => {
  it('a backup taken while the server runs restores the alarms and the readings it held', async () => {
    const dataDir = tempDir();
    const server = await startTestServer(dataDir);
    const site = await registerSite(server);
    const gateway = await startTestGateway(server, site);
    const screen = await Screen.open(server);
    gateway.sink.event({ device: 'btn-203', type: 'call' });
    const alarm = await screen.waitForAlarm((a) => a.type === 'call');
    // Readings live in their own file (telemetry.db): the one backup file holds them too.
    const t0 = Date.now() - 60_000;
    for (let i = 0; i < 30; i += 1)
      gateway.sink.reading({ device: 'radar-203', metric: 'heart_rate', value: 60 + i, ts: new Date(t0 + i * 1000).toISOString() });
    const chart = (s: typeof server) =>
      s.api<{ points: Array<{ value: number }> }>(
        'GET',
        `/api/v1/residents/${site.residentId}/telemetry?metric=heart_rate&from=${new Date(t0 - 1000).toISOString()}&to=${new Date(t0 + 60_000).toISOString()}`,
      );
    await waitFor(async () => (await chart(server)).body.points.length === 30, 'readings stored');
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
    expect((await chart(restored)).body.points.map((p) => p.value)).toEqual(Array.from({ length: 30 }, (_, i) => 60 + i));
    await restored.stop();
  });
});

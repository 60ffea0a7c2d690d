// Gateway figures for `npm run bench`: events/s accepted to disk (fsynced outbox), events/s
// delivered to a server and confirmed, radar frames/s parsed, and resident memory with 200 devices.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import pino from 'pino';
import { loadGatewayConfig } from '../gateway/config.ts';
import { startGateway } from '../gateway/gateway.ts';
import { openOutbox } from '../gateway/outbox/outbox.ts';
import { Seeed5359Parser } from '../gateway/parsers/seeed-5359.ts';
import { encode5359 } from '../simulators/encoders/seeed5359.ts';
import { api, type ServerProc, waitUntil } from './lib.ts';

const tmp = (p: string) => fs.mkdtempSync(path.join(os.tmpdir(), p));

export function outboxAcceptRate(n: number): number {
  const outbox = openOutbox(tmp('care-bench-outbox-'));
  const t = performance.now();
  for (let i = 0; i < n; i += 1) outbox.appendEvent(`e${i}`, (seq) => `{"seq":${seq}}`);
  const rate = n / ((performance.now() - t) / 1000);
  outbox.close();
  return Math.round(rate);
}

export async function parseRate(frames: number): Promise<number> {
  const one = Buffer.concat([encode5359(0x85, 0x02, [72]), encode5359(0x80, 0x01, [1]), encode5359(0x81, 0x02, [16])]);
  const stream = Buffer.concat(Array.from({ length: Math.ceil(frames / 3) }, () => one));
  const parser = new Seeed5359Parser();
  let count = 0;
  parser.on('data', () => {
    count += 1;
  });
  const t = performance.now();
  for (let i = 0; i < stream.length; i += 4096) parser.write(stream.subarray(i, i + 4096));
  parser.end();
  await new Promise((r) => parser.once('finish', r));
  return Math.round(count / ((performance.now() - t) / 1000));
}

/** One gateway process-equivalent in this process: events accepted, delivered and confirmed. */
export async function deliveryRate(server: ServerProc, n: number): Promise<number> {
  const { token } = await api<{ token: string }>(server.url, 'POST', '/api/v1/auth/login', {
    username: 'admin',
    password: 'bench-admin-password',
  });
  const site = await api<{ id: string }>(server.url, 'POST', '/api/v1/sites', { name: 'G', kind: 'nursing_home' }, token);
  const gw = await api<{ id: string; secret: string }>(server.url, 'POST', '/api/v1/gateways', { siteId: site.id, name: 'g' }, token);
  const outboxDir = tmp('care-bench-gw-');
  const config = loadGatewayConfig({
    CARE_SITE_ID: site.id,
    CARE_GATEWAY_ID: gw.id,
    CARE_GATEWAY_SECRET: gw.secret,
    CARE_UPLINK_URL: server.mqttUrl,
    CARE_OUTBOX_DIR: outboxDir,
  });
  const gateway = await startGateway(config, { logger: pino({ level: 'silent' }) });
  await waitUntil(() => gateway.uplinkConnected(), 10_000);
  const t = performance.now();
  for (let i = 0; i < n; i += 1) gateway.sink.event({ device: `d-${i % 200}`, type: 'presence' });
  await waitUntil(() => gateway.outboxDepth().events === 0, 60_000);
  const rate = n / ((performance.now() - t) / 1000);
  await gateway.stop();
  return Math.round(rate);
}

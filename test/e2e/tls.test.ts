// TLS: HTTPS and MQTT over TLS with certificates from the documented dev CA script, and mTLS where
// a gateway's client certificate must be signed by the CA and name the gateway.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Alarm, gatewayTopic } from '../../protocol/index.ts';
import { ADMIN_PASSWORD, type DemoSite, registerSite, startTestServer, type TestServer, tempDir, waitFor } from '../helpers/harness.ts';

const certs = tempDir('care-certs-');
let server: TestServer;
let site: DemoSite;

beforeAll(async () => {
  // First a plain server to register the gateway, then the same data dir behind TLS.
  const dataDir = tempDir();
  const plain = await startTestServer(dataDir);
  site = await registerSite(plain);
  await plain.stop();
  execFileSync('bash', [path.resolve(import.meta.dirname, '../../scripts/dev-certs.sh'), certs, site.gatewayId, 'someone-else']);
  server = await startTestServer(dataDir, {
    env: {
      CARE_TLS_CERT: path.join(certs, 'server.pem'),
      CARE_TLS_KEY: path.join(certs, 'server.key'),
      CARE_TLS_CA: path.join(certs, 'ca.pem'),
      CARE_MQTTS_PORT: '0',
    },
    https: { ca: fs.readFileSync(path.join(certs, 'ca.pem'), 'utf8') },
  });
});
afterAll(async () => {
  await server?.stop();
});

const ca = () => fs.readFileSync(path.join(certs, 'ca.pem'));
const mqtts = (opts: mqtt.IClientOptions) =>
  mqtt.connectAsync(`mqtts://localhost:${server.mqttsPort}`, {
    clientId: site.gatewayId,
    username: site.gatewayId,
    password: site.secret,
    ca: ca(),
    reconnectPeriod: 0,
    connectTimeout: 5000,
    ...opts,
  });

describe('TLS', () => {
  it('serves the API over HTTPS', async () => {
    expect(server.url.startsWith('https://')).toBe(true);
    const r = await server.api<{ token: string }>('POST', '/api/v1/auth/login', { username: 'admin', password: ADMIN_PASSWORD });
    expect(r.status).toBe(200);
  });

  it('a gateway with its own client certificate delivers an event over mqtts', async () => {
    const c = await mqtts({
      cert: fs.readFileSync(path.join(certs, `${site.gatewayId}.pem`)),
      key: fs.readFileSync(path.join(certs, `${site.gatewayId}.key`)),
    });
    await c.publishAsync(
      gatewayTopic(site.siteId, site.gatewayId, 'events'),
      JSON.stringify({ v: 1, id: 'tls-1', seq: 1, ts: new Date().toISOString(), device: 'btn-203', type: 'call' }),
      { qos: 1 },
    );
    await c.endAsync();
    await waitFor(
      async () => (await server.api<{ alarms: Alarm[] }>('GET', '/api/v1/alarms')).body.alarms.find((a) => a.deviceId === 'btn-203'),
      'alarm over TLS',
    );
  });

  it('refuses a gateway without a client certificate, and one whose certificate names another gateway', async () => {
    await expect(mqtts({})).rejects.toThrow();
    await expect(
      mqtts({ cert: fs.readFileSync(path.join(certs, 'someone-else.pem')), key: fs.readFileSync(path.join(certs, 'someone-else.key')) }),
    ).rejects.toThrow();
  });
});

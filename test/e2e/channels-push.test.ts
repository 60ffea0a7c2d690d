// Web Push to a push service run by this test (an HTTP server): a logged-in user registers their
// browser's subscription (keys made here as a browser would), an escalated alarm for that user is
// POSTed to the endpoint, the test checks the VAPID JWT's ES256 signature against the key the
// server publishes (RFC 8292) and decrypts the aes128gcm payload with the subscription's private
// key and auth secret (RFC 8291, `http_ece`). A 410 from the push service removes the subscription,
// and a user with no way to reach them is `failed`, never `delivered`.
import { createECDH, createPublicKey, type ECDH, randomBytes, verify } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import ece from 'http_ece';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_AT_SECOND_LEVEL, alarmRaiser, siteWithEscalation } from '../helpers/escalation.ts';
import { FakeClock } from '../helpers/fake-clock.ts';
import { type DemoSite, startTestServer, type TestServer, waitFor } from '../helpers/harness.ts';

interface Received {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

let server: TestServer;
let site: DemoSite;
let gw: MqttClient;
let pushService: http.Server;
let pushOrigin = '';
const received: Received[] = [];
/** Per endpoint path: the status the push service answers. */
const answer = new Map<string, number>();
const clock = new FakeClock(Date.parse('2026-11-23T02:00:00.000Z'));

const b64url = (b: Buffer) => b.toString('base64url');

/** What a browser's PushManager.subscribe() makes: a P-256 key pair and a 16-byte auth secret. */
function browserKeys(): { ecdh: ECDH; auth: Buffer; keys: { p256dh: string; auth: string } } {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  const auth = randomBytes(16);
  return { ecdh, auth, keys: { p256dh: b64url(ecdh.getPublicKey()), auth: b64url(auth) } };
}

const raiseAlarm = alarmRaiser(clock, () => ({ server, site, gw }));
const raise = (type: 'call' | 'fall', device: string) => raiseAlarm(device, type);
type Note = { id: string; alarmId: string; channel: string; state: string; lastError: string | null };
const notes = async () => (await server.api<{ notifications: Note[] }>('GET', '/api/v1/notifications?channel=user')).body.notifications;

/** Checks an RFC 8292 `vapid t=<JWT>, k=<key>` header; returns the JWT's claims. */
function verifyVapid(authorization: string, publicKey: string): { aud: string; exp: number; sub: string } {
  const m = /^vapid t=([^,\s]+),\s*k=([A-Za-z0-9_-]+)$/.exec(authorization);
  expect(m, authorization).not.toBeNull();
  const [, jwt, k] = m as RegExpExecArray;
  expect(k).toBe(publicKey);
  const [h, p, s] = (jwt as string).split('.') as [string, string, string];
  expect(JSON.parse(Buffer.from(h, 'base64url').toString())).toEqual({ typ: 'JWT', alg: 'ES256' });
  // The public key is an uncompressed P-256 point: 0x04 || x || y.
  const point = Buffer.from(k as string, 'base64url');
  const key = createPublicKey({
    key: { kty: 'EC', crv: 'P-256', x: b64url(point.subarray(1, 33)), y: b64url(point.subarray(33, 65)) },
    format: 'jwk',
  });
  const ok = verify('sha256', Buffer.from(`${h}.${p}`), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(s, 'base64url'));
  expect(ok).toBe(true);
  return JSON.parse(Buffer.from(p, 'base64url').toString());
}

beforeAll(async () => {
  pushService = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) });
      const status = answer.get(req.url ?? '') ?? 201;
      res.writeHead(status, status === 201 ? { location: `${pushOrigin}/message/${received.length}` } : {}).end();
    });
  });
  await new Promise<void>((r) => pushService.listen(0, '127.0.0.1', () => r()));
  pushOrigin = `http://127.0.0.1:${(pushService.address() as AddressInfo).port}`;
  server = await startTestServer(undefined, {
    clock,
    env: { CARE_PUSH_ALLOW_HTTP: 'on', CARE_PUBLIC_URL: 'https://care.example.org', CARE_VAPID_SUBJECT: 'mailto:ops@care.example.org' },
  });
  ({ site, gw } = await siteWithEscalation(server, ADMIN_AT_SECOND_LEVEL));
});
afterAll(async () => {
  await gw?.endAsync();
  await server?.stop();
  pushService?.close();
});

describe('Web Push', () => {
  it('keeps the generated VAPID key pair in the data directory, readable by the server alone', async () => {
    const file = path.join(server.dataDir, 'vapid.json');
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const stored = JSON.parse(fs.readFileSync(file, 'utf8')) as { publicKey: string };
    const key = await server.api<{ publicKey: string }>('GET', '/api/v1/push/vapid-public-key');
    expect(key.body.publicKey).toBe(stored.publicKey);
  });

  it('an escalated alarm is pushed to the user: VAPID-signed, encrypted for their browser, with the response link', async () => {
    const { publicKey } = (await server.api<{ publicKey: string }>('GET', '/api/v1/push/vapid-public-key')).body;
    const browser = browserKeys();
    const sub = await server.api<{ id: string }>('POST', '/api/v1/push/subscriptions', {
      endpoint: `${pushOrigin}/push/phone-1`,
      keys: browser.keys,
    });
    expect(sub.status).toBe(201);

    const alarm = await raise('call', 'btn-203');
    clock.advance(60_000);
    await server.tick();
    const got = await waitFor(() => received.find((r) => r.path === '/push/phone-1'), 'the push at the push service');
    expect(got.headers['content-encoding']).toBe('aes128gcm');
    expect(Number(got.headers.ttl)).toBeGreaterThan(0);
    expect(got.headers.urgency).toBe('high');
    const claims = verifyVapid(String(got.headers.authorization), publicKey);
    expect(claims.aud).toBe(pushOrigin);
    expect(claims.sub).toBe('mailto:ops@care.example.org');
    expect(claims.exp * 1000).toBeGreaterThan(Date.now());
    expect(claims.exp * 1000).toBeLessThanOrEqual(Date.now() + 24 * 3600_000);

    const plain = ece.decrypt(got.body, { version: 'aes128gcm', privateKey: browser.ecdh, authSecret: browser.auth });
    const payload = JSON.parse(plain.toString('utf8')) as {
      type: string;
      alarmId: string;
      title: string;
      body: string;
      url: string;
      token: string;
    };
    expect(payload).toMatchObject({ type: 'alarm', alarmId: alarm.id });
    expect(payload.title).toContain('紧急呼叫');
    expect(payload.url).toBe(`https://care.example.org/r/${payload.token}`);
    // The link answers: the token is live for this alarm.
    const page = await fetch(`${server.url}/r/${payload.token}`);
    expect(page.status).toBe(200);
    await page.arrayBuffer();

    // The push service took it; nobody says the phone has it: sent, not delivered.
    await waitFor(async () => (await notes()).find((n) => n.alarmId === alarm.id && n.state === 'sent'), 'sent');
    await server.api('POST', `/api/v1/alarms/${alarm.id}/resolve`, { note: 'done' });
    await server.api('DELETE', `/api/v1/push/subscriptions/${sub.body.id}`);
  });

  it('a subscription the push service calls gone (410) is removed; with no other way to reach the user the notification fails', async () => {
    const browser = browserKeys();
    answer.set('/push/phone-gone', 410);
    const sub = await server.api<{ id: string }>('POST', '/api/v1/push/subscriptions', {
      endpoint: `${pushOrigin}/push/phone-gone`,
      keys: browser.keys,
    });
    expect(sub.status).toBe(201);
    const alarm = await raise('fall', 'radar-203');
    clock.advance(60_000);
    await server.tick();
    await waitFor(() => received.find((r) => r.path === '/push/phone-gone'), 'the push attempt');
    const failed = await waitFor(async () => (await notes()).find((n) => n.alarmId === alarm.id && n.state === 'failed'), 'failed');
    expect(failed.lastError).toMatch(/410/);
    // Removed: deleting it again finds nothing.
    expect((await server.api('DELETE', `/api/v1/push/subscriptions/${sub.body.id}`)).status).toBe(404);
  });

  it('refuses an endpoint that is not a push service address, and keys of the wrong shape', async () => {
    const browser = browserKeys();
    const bad = await server.api('POST', '/api/v1/push/subscriptions', { endpoint: 'ftp://example.org/x', keys: browser.keys });
    expect(bad.status).toBe(400);
    const shape = await server.api('POST', '/api/v1/push/subscriptions', { endpoint: `${pushOrigin}/p`, keys: { p256dh: 'x', auth: 'y' } });
    expect(shape.status).toBe(400);
  });
});

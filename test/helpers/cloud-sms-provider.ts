// An HTTP server in the place of Alibaba Cloud's and Tencent Cloud's SMS APIs, for the cloud SMS
// tests (test/unit/cloud-sms*.test.ts): it records each request and answers what the test says.
// The signature checks recompute each request's signature from the providers' documentation (not
// from the SDK): Alibaba Cloud's V3 scheme ACS3-HMAC-SHA256 ("V3 版本请求体&签名机制") and
// Tencent Cloud's TC3-HMAC-SHA256 ("签名方法 v3").
import { createHash, createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'vitest';

export interface Got {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface FakeProvider {
  endpoint: string;
  got: Got[];
  /** The answer to the next requests; `null` never answers (a provider that hangs). */
  reply: (g: Got) => { status: number; json: unknown } | null;
  close(): Promise<void>;
}

export async function startFakeProvider(): Promise<FakeProvider> {
  const hanging = new Set<http.ServerResponse>();
  const p: FakeProvider = {
    endpoint: '',
    got: [],
    reply: () => ({ status: 200, json: {} }),
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of hanging) res.destroy();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const g = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      p.got.push(g);
      const r = p.reply(g);
      if (!r) {
        hanging.add(res);
        return;
      }
      res.writeHead(r.status, { 'content-type': 'application/json' }).end(JSON.stringify(r.json));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  p.endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return p;
}

export const sha256 = (s: string | Buffer) => createHash('sha256').update(s).digest('hex');
const hmac = (key: string | Buffer, s: string) => createHmac('sha256', key).update(s).digest();

/** RFC 3986 percent-encoding as Alibaba Cloud's V3 document asks (space %20, * %2A, ~ kept). */
const acsEncode = (s: string) =>
  encodeURIComponent(s)
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%7E/g, '~');

/** Alibaba Cloud V3: the Authorization header the document says this request must carry. */
export function acs3Signature(g: Got, secret: string): { expected: string; signedHeaders: string[] } {
  const auth = String(g.headers.authorization);
  const signedHeaders = (/SignedHeaders=([^,]+)/.exec(auth)?.[1] ?? '').split(';');
  const u = new URL(g.url, 'http://x');
  const query = [...u.searchParams.entries()]
    .map(([k, v]) => [acsEncode(k), acsEncode(v)] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const canonicalHeaders = signedHeaders.map((h) => `${h}:${String(g.headers[h]).trim()}\n`).join('');
  const hashedPayload = sha256(g.body);
  const canonicalRequest = [g.method, u.pathname, query, canonicalHeaders, signedHeaders.join(';'), hashedPayload].join('\n');
  const stringToSign = `ACS3-HMAC-SHA256\n${sha256(canonicalRequest)}`;
  return { expected: hmac(secret, stringToSign).toString('hex'), signedHeaders };
}

/** Alibaba Cloud: the request's parameters, wherever the SDK put them (query or form body). */
export function acsParams(g: Got): URLSearchParams {
  const params = new URLSearchParams(new URL(g.url, 'http://x').search);
  for (const [k, v] of new URLSearchParams(g.body)) params.set(k, v);
  return params;
}

/** Tencent Cloud TC3-HMAC-SHA256: the Authorization header the document says this request must carry. */
export function tc3Authorization(g: Got, secretId: string, secretKey: string): string {
  const auth = String(g.headers.authorization);
  const signedHeaders = (/SignedHeaders=([^,]+)/.exec(auth)?.[1] ?? '').split(';');
  const scope = /Credential=[^/]+\/([^,]+)/.exec(auth)?.[1] ?? '';
  const [date, service] = scope.split('/') as [string, string];
  const timestamp = Number(g.headers['x-tc-timestamp']);
  expect(new Date(timestamp * 1000).toISOString().slice(0, 10)).toBe(date);
  // The document's host is the API's name (sms.tencentcloudapi.com, port 443 implied). The SDK signs
  // the name without a port, so against this test's endpoint (a port of its own) the port is left out.
  const value = (h: string) => (h === 'host' ? String(g.headers.host).replace(/:\d+$/, '') : String(g.headers[h]));
  const canonicalHeaders = signedHeaders.map((h) => `${h}:${value(h).trim().toLowerCase()}\n`).join('');
  const canonicalRequest = [g.method, '/', '', canonicalHeaders, signedHeaders.join(';'), sha256(g.body)].join('\n');
  const stringToSign = ['TC3-HMAC-SHA256', String(timestamp), `${date}/${service}/tc3_request`, sha256(canonicalRequest)].join('\n');
  const secretDate = hmac(`TC3${secretKey}`, date);
  const secretService = hmac(secretDate, service);
  const secretSigning = hmac(secretService, 'tc3_request');
  const signature = createHmac('sha256', secretSigning).update(stringToSign).digest('hex');
  return `TC3-HMAC-SHA256 Credential=${secretId}/${date}/${service}/tc3_request, SignedHeaders=${signedHeaders.join(';')}, Signature=${signature}`;
}

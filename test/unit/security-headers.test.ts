// Helmet's headers, worked out once per Host (server/http/security-headers.ts), through inject on the
// server's base app: every answer (404 included) carries them, the CSP names the request's own host
// for WebSockets, and what is sent is what helmet itself sets with those options.
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sameHostWebSockets } from '../../server/http/app.ts';
import { helmetHeaders, securityHeaders } from '../../server/http/security-headers.ts';

let app: FastifyInstance;
const options = (webSockets: string) => ({
  contentSecurityPolicy: { directives: { defaultSrc: ["'self'"], connectSrc: ["'self'", webSockets], upgradeInsecureRequests: null } },
  strictTransportSecurity: false as const,
});

beforeAll(async () => {
  app = Fastify();
  await app.register(securityHeaders, {
    variantOf: (req) => sameHostWebSockets(req.headers.host),
    helmetOptions: options,
    maxVariants: 2,
  });
  app.get('/x', async () => ({ ok: true }));
  await app.ready();
});
afterAll(async () => {
  await app?.close();
});

describe('security headers', () => {
  it("sends helmet's headers for the request's host, on every answer", async () => {
    for (const host of ['care.example:8080', 'other.example', 'third.example', 'care.example:8080', 'bad host!']) {
      for (const url of ['/x', '/missing']) {
        const res = await app.inject({ method: 'GET', url, headers: { host } });
        const expected = helmetHeaders(options(sameHostWebSockets(host)));
        expect(expected.set.length).toBeGreaterThan(8);
        for (const [name, value] of expected.set) expect(res.headers[name.toLowerCase()], `${name} for ${host} ${url}`).toBe(value);
      }
    }
    const res = await app.inject({ method: 'GET', url: '/x', headers: { host: 'care.example:8080' } });
    expect(res.headers['content-security-policy']).toContain("connect-src 'self' ws://care.example:8080 wss://care.example:8080");
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['strict-transport-security']).toBeUndefined();
  });

  it('refuses options helmet refuses, when the plugin is registered', async () => {
    const bad = Fastify();
    await expect(
      bad
        .register(securityHeaders, {
          variantOf: () => '',
          helmetOptions: () => ({ contentSecurityPolicy: { directives: { defaultSrc: ['self'] } } }),
        })
        .ready(),
    ).rejects.toThrow();
    await bad.close();
  });
});

// EMQX-style HTTP authentication and authorisation hooks (CARE_BROKER_HOOK_SECRET): called here
// with the requests EMQX 5 sends for its `http` authentication and authorization sources. No EMQX
// runs on this machine (it is not among Debian's packages), so the broker's side is these calls;
// the answers are what EMQX acts on. The server and its registry are real.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DemoSite, registerSite, startTestServer, type TestServer } from '../helpers/harness.ts';

const HOOK_SECRET = 'broker-hook-secret-0123456789';

describe('broker HTTP hooks (EMQX style)', () => {
  let server: TestServer;
  let site: DemoSite;
  let other: DemoSite;

  const hook = async (route: string, body: unknown, secret: string | null = HOOK_SECRET) => {
    const res = await fetch(`${server.url}/broker/v1/${route}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(secret ? { authorization: `Bearer ${secret}` } : {}) },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as { result: string; is_superuser?: boolean } };
  };
  const securityEvents = async () => {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    return [...text.matchAll(/care_security_events_total\{kind="[^"]+"\} (\d+)/g)].reduce((n, m) => n + Number(m[1]), 0);
  };

  beforeAll(async () => {
    server = await startTestServer(undefined, { env: { CARE_BROKER_HOOK_SECRET: HOOK_SECRET } });
    site = await registerSite(server);
    other = await registerSite(server, [{ id: 'btn-other', kind: 'call_button' }]);
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('answers only a caller with the shared secret', async () => {
    const body = { clientid: site.gatewayId, username: site.gatewayId, password: site.secret };
    expect((await hook('authenticate', body, null)).status).toBe(401);
    expect((await hook('authenticate', body, 'not-the-secret-at-all')).status).toBe(401);
  });

  it('lets a gateway in with its own secret, and nobody else', async () => {
    const before = await securityEvents();
    const ok = await hook('authenticate', { clientid: site.gatewayId, username: site.gatewayId, password: site.secret });
    expect(ok).toEqual({ status: 200, body: { result: 'allow', is_superuser: false } });
    const refused = [
      { clientid: site.gatewayId, username: site.gatewayId, password: 'wrong' },
      { clientid: 'someone-else', username: site.gatewayId, password: site.secret },
      { clientid: 'anon' },
      { clientid: 'gw-unknown', username: 'gw-unknown', password: 'x' },
    ];
    for (const body of refused) expect((await hook('authenticate', body)).body.result).toBe('deny');
    expect((await securityEvents()) - before).toBe(refused.length);
  });

  it('allows a gateway its own topics only', async () => {
    const own = `care/v1/${site.siteId}/${site.gatewayId}/`;
    const ask = (action: string, topic: string, retain = false) =>
      hook('authorize', { clientid: site.gatewayId, username: site.gatewayId, action, topic, retain }).then((r) => r.body.result);
    expect(await ask('publish', `${own}events`)).toBe('allow');
    expect(await ask('publish', `${own}status`, true)).toBe('allow');
    expect(await ask('subscribe', `${own}cmd`)).toBe('allow');
    expect(await ask('publish', `${own}events`, true)).toBe('deny'); // only status is retained
    expect(await ask('publish', `${own}cmd`)).toBe('deny');
    expect(await ask('publish', `care/v1/${other.siteId}/${other.gatewayId}/events`)).toBe('deny');
    expect(await ask('subscribe', 'care/v1/#')).toBe('deny');
    expect(await ask('subscribe', '$SYS/#')).toBe('deny');
    expect(await ask('publish', 'care-internal/v1/feed')).toBe('deny');
  });

  it('a revoked gateway loses its rights, on an open session too', async () => {
    const own = `care/v1/${other.siteId}/${other.gatewayId}/events`;
    const ask = () => hook('authorize', { clientid: other.gatewayId, username: other.gatewayId, action: 'publish', topic: own });
    expect((await ask()).body.result).toBe('allow');
    expect((await server.api('DELETE', `/api/v1/gateways/${other.gatewayId}/secret`)).status).toBe(200);
    expect((await ask()).body.result).toBe('deny');
    const login = await hook('authenticate', { clientid: other.gatewayId, username: other.gatewayId, password: other.secret });
    expect(login.body.result).toBe('deny');
  });
});

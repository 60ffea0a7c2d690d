// Login limits against spraying and lock-outs: many usernames from one address are refused after the
// address's limit; people's password checks cannot take the threads a gateway's login needs; and
// the people who work behind an address are not locked out by others failing there.
import { spawn } from 'node:child_process';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, registerSite, startTestServer, type TestServer } from '../helpers/harness.ts';

async function login(server: TestServer, username: string, password: string): Promise<number> {
  const res = await fetch(`${server.url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  await res.arrayBuffer();
  return res.status;
}

/** `n` logins with different made-up usernames, all at once; their statuses. */
/**
 * `n` logins with made-up usernames, `wave` at a time: a wave smaller than the hashing line
 * (2 running + 32 waiting) is judged by the counters, never refused as busy, however slow the machine.
 */
async function spray(server: TestServer, n: number, prefix: string, wave = 8): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < n; i += wave) {
    const size = Math.min(wave, n - i);
    statuses.push(...(await Promise.all(Array.from({ length: size }, (_, j) => login(server, `${prefix}-${i + j}`, 'Winter2026!')))));
  }
  return statuses;
}

const count = (statuses: number[], status: number) => statuses.filter((s) => s === status).length;

/**
 * The same spray from a child process, so the attacker's own work does not share the test's (the
 * server's) event loop. Resolves `arrived` at its first answer, `done` with every status.
 */
function sprayFromChild(server: TestServer, n: number, prefix: string) {
  const script = `
    const statuses = await Promise.all(Array.from({ length: ${n} }, async (_, i) => {
      const r = await fetch('${server.url}/api/v1/auth/login', { method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: '${prefix}-' + i, password: 'Winter2026!' }) });
      await r.arrayBuffer();
      if (!globalThis.first) { globalThis.first = true; console.log('first'); }
      return r.status;
    }));
    console.log(JSON.stringify(statuses));`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  let onFirst: () => void = () => undefined;
  const arrived = new Promise<void>((resolve) => {
    onFirst = resolve;
  });
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    if (out.startsWith('first')) onFirst();
  });
  const done = new Promise<number[]>((resolve, reject) =>
    child.once('exit', (code) =>
      code === 0 ? resolve(JSON.parse(out.slice(out.indexOf('\n') + 1)) as number[]) : reject(new Error(`spray exited ${code}`)),
    ),
  );
  return { arrived, done };
}

describe('one address trying many usernames', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(undefined, { env: { CARE_LOGIN_RATE_LIMIT: '10', CARE_LOGIN_ADDRESS_LIMIT: '50' } });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('600 usernames from one address: at most 50 are checked, the rest refused with 429', async () => {
    const statuses = await spray(server, 600, 'spray');
    expect(count(statuses, 401)).toBeLessThanOrEqual(50);
    expect(count(statuses, 429) + count(statuses, 503)).toBeGreaterThanOrEqual(550);
  }, 120_000);
});

describe('a gateway logging in during a login spray', () => {
  let server: TestServer;
  beforeAll(async () => {
    // No address limit here: every guess reaches the password check, as from many addresses.
    server = await startTestServer(undefined, { env: { CARE_LOGIN_RATE_LIMIT: '10000', CARE_LOGIN_ADDRESS_LIMIT: '100000' } });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('connects within a bounded time, first time and again', async () => {
    const warmup = await registerSite(server, [{ id: 'btn-w', kind: 'call_button' }]);
    const site = await registerSite(server, [{ id: 'btn-s', kind: 'call_button' }]);
    const connectMs = async (gw = site) => {
      const started = Date.now();
      const c = await mqtt.connectAsync(server.mqttUrl, {
        clientId: gw.gatewayId,
        username: gw.gatewayId,
        password: gw.secret,
        reconnectPeriod: 0,
        connectTimeout: 30_000,
      });
      const ms = Date.now() - started;
      await c.endAsync();
      return ms;
    };
    // The server's first MQTT log-in ever is slow for reasons of its own: another gateway's goes first.
    await connectMs(warmup);
    const sprayed = sprayFromChild(server, 600, 'spray');
    // Once the first answer is back, the spray is at the server: then the gateway connects.
    await sprayed.arrived;
    const first = await connectMs();
    const again = await connectMs();
    const statuses = await sprayed.done;
    expect(count(statuses, 401), 'the spray reached the password check').toBeGreaterThan(0);
    // Generous for a busy machine: before, it waited behind every queued scrypt (3.6 s and more).
    expect(first, `first connect took ${first} ms during the spray`).toBeLessThan(2000);
    expect(again, `reconnect took ${again} ms during the spray`).toBeLessThan(2000);
    // Past the hashing line, logins are refused at once rather than queued.
    expect(count(statuses, 503)).toBeGreaterThan(0);
  }, 120_000);
});

describe('people behind one address', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(undefined, { env: { CARE_LOGIN_RATE_LIMIT: '10', CARE_LOGIN_ADDRESS_LIMIT: '50' } });
    const site = await registerSite(server, []);
    const r = await server.api('POST', '/api/v1/users', {
      username: 'nurse-x',
      role: 'caregiver',
      siteId: site.siteId,
      password: 'correct horse battery',
    });
    expect(r.status).toBe(201);
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("another user's failures and a spray from the same address do not lock the admin out", async () => {
    expect(await login(server, 'admin', ADMIN_PASSWORD)).toBe(200);
    const nurse = [];
    for (let i = 0; i < 12; i += 1) nurse.push(await login(server, 'nurse-x', 'wrong'));
    // The nurse's account is limited from this address after 10 failures...
    expect(nurse.slice(0, 10).every((s) => s === 401)).toBe(true);
    expect(nurse.slice(10)).toEqual([429, 429]);
    // ...and the address after 50, all usernames together.
    const sprayed = await spray(server, 100, 'other');
    expect(count(sprayed, 401)).toBeLessThanOrEqual(40);
    expect(count(sprayed, 429)).toBeGreaterThan(0);
    // The admin logged in from here before: held only to the admin account's own limit.
    expect(await login(server, 'admin', ADMIN_PASSWORD)).toBe(200);
  }, 60_000);

  it("a success clears the account's failures, and successes never count", async () => {
    const statuses: number[] = [];
    for (let round = 0; round < 2; round += 1) {
      for (let i = 0; i < 9; i += 1) statuses.push(await login(server, 'admin', 'mistyped'));
      statuses.push(await login(server, 'admin', ADMIN_PASSWORD));
    }
    for (let i = 0; i < 12; i += 1) statuses.push(await login(server, 'admin', ADMIN_PASSWORD));
    expect(statuses).toEqual([...Array(9).fill(401), 200, ...Array(9).fill(401), 200, ...Array(12).fill(200)]);
  }, 60_000);
});

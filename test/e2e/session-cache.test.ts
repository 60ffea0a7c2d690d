// A server that is the deployment's one instance keeps sessions for a moment
// (server/http/session-cache.ts). Whatever ends or changes a session must still take effect with
// the very next request: a logout, a password reset, a new role. Real server, real HTTP.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/harness.ts';

const PASSWORD = 'correct horse battery';
let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
}, 60_000);
afterAll(async () => {
  await server?.stop();
});

async function account(username: string): Promise<{ id: string; token: string }> {
  const made = await server.api<{ id: string }>('POST', '/api/v1/users', { username, password: PASSWORD, role: 'caregiver' });
  expect(made.status).toBe(201);
  const login = await server.api<{ token: string }>('POST', '/api/v1/auth/login', { username, password: PASSWORD }, '');
  expect(login.status).toBe(200);
  return { id: made.body.id, token: login.body.token };
}
/** Reads the alarm list twice, back to back: the second answer comes from the kept session. */
async function readTwice(token: string) {
  expect((await server.api('GET', '/api/v1/alarms', undefined, token)).status).toBe(200);
  expect((await server.api('GET', '/api/v1/alarms', undefined, token)).status).toBe(200);
}

describe('kept sessions on a single instance', () => {
  it('a logged-out token is refused by the next request', async () => {
    const { token } = await account('kept-logout');
    await readTwice(token);
    expect((await server.api('POST', '/api/v1/auth/logout', undefined, token)).status).toBe(200);
    expect((await server.api('GET', '/api/v1/alarms', undefined, token)).status).toBe(401);
    expect((await server.api('GET', '/api/v1/auth/me', undefined, token)).status).toBe(401);
  });

  it("an administrator's password reset or role change ends the account's sessions for the next request", async () => {
    const reset = await account('kept-reset');
    await readTwice(reset.token);
    expect((await server.api('PATCH', `/api/v1/users/${reset.id}`, { password: 'another long password' })).status).toBe(200);
    expect((await server.api('GET', '/api/v1/alarms', undefined, reset.token)).status).toBe(401);

    const demoted = await account('kept-role');
    await readTwice(demoted.token);
    expect((await server.api('PATCH', `/api/v1/users/${demoted.id}`, { role: 'responder' })).status).toBe(200);
    expect((await server.api('GET', '/api/v1/alarms', undefined, demoted.token)).status).toBe(401);
    // The administrator's own kept session was looked up again, and still works.
    expect((await server.api('GET', '/api/v1/alarms')).status).toBe(200);
  });
});

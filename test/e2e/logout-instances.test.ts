// Logout with two server instances on one PostgreSQL: the token is refused by both at once, and a
// screen opened with it on the other instance is closed within a ping (15 s), not left running.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Screen, startTestServer, type TestServer, waitFor } from '../helpers/harness.ts';
import { type Postgres, postgresBin, startPostgres } from '../helpers/postgres.ts';

const PASSWORD = 'correct horse battery';

describe('logout across instances', () => {
  let pgServer: Postgres;
  let a: TestServer;
  let b: TestServer;

  beforeAll(async () => {
    if (postgresBin() === null) throw new Error('PostgreSQL is missing: install Debian’s postgresql package');
    pgServer = await startPostgres();
    a = await startTestServer(undefined, { env: { CARE_DATABASE_URL: pgServer.url } });
    b = await startTestServer(undefined, { env: { CARE_DATABASE_URL: pgServer.url } });
  }, 120_000);
  afterAll(async () => {
    await a?.stop();
    await b?.stop();
    pgServer?.stop();
  });

  it("a logout on instance A closes the screen opened with that token on instance B; another session's screen stays", async () => {
    expect((await a.api('POST', '/api/v1/users', { username: 'carer-x', password: PASSWORD, role: 'caregiver' })).status).toBe(201);
    const login = async () =>
      (await a.api<{ token: string }>('POST', '/api/v1/auth/login', { username: 'carer-x', password: PASSWORD }, '')).body.token;
    const token = await login();
    const other = await login();
    const screen = await Screen.open(b, undefined, token);
    const kept = await Screen.open(b, undefined, other);

    expect((await a.api('POST', '/api/v1/auth/logout', undefined, token)).status).toBe(200);
    expect((await b.api('GET', '/api/v1/auth/me', undefined, token)).status).toBe(401);
    await expect(Screen.open(b, undefined, token)).rejects.toThrow(/401/);
    await waitFor(() => screen.closedWith, 'the screen on instance B closed', 40_000);
    expect(screen.closedWith?.code).toBe(4401);
    expect(kept.closedWith).toBeNull();
    kept.close();
  }, 60_000);
});

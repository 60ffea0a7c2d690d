// Response links: unguessable, stored as a hash, dead after 24 h, on resolve, or on revoke.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createResponseTokens, hashToken, parsePublicUrl } from '../../server/respond/tokens.ts';
import { type OpenedDatabase, openDatabase } from '../../server/storage/db.ts';

let opened: OpenedDatabase;
let dir: string;
let nowMs = Date.parse('2026-12-01T10:00:00.000Z');
const now = () => new Date(nowMs).toISOString();

async function alarm(id: string, state = 'active') {
  await opened.db
    .insertInto('alarms')
    .values({
      id,
      type: 'fall',
      priority: 'high',
      state,
      cause_key: `k-${id}`,
      site_id: 's1',
      gateway_id: 'g1',
      device_id: 'd1',
      resident_id: null,
      room: '203',
      raised_at: now(),
      last_event_at: now(),
      ack_at: null,
      ack_by: null,
      resolved_at: null,
      resolved_by: null,
      outcome: null,
      note: null,
      escalation_level: 1,
      count: 1,
      unregistered: 0,
      test: 0,
      snoozed_until: null,
      next_escalation_at: null,
      upgrade_at: null,
      on_site_by: null,
    })
    .execute();
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tokens-'));
  opened = await openDatabase(dir);
});
afterAll(async () => {
  await opened.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('response tokens', () => {
  const contact = { kind: 'sms' as const, target: '+8613800000001', name: '李女士' };

  it('issues a URL-safe token of at least 128 bits, stores only its hash, and looks it up', async () => {
    await alarm('A1');
    const tokens = createResponseTokens(opened.db, { publicUrl: 'https://care.example.cn/', now });
    const { token, url } = await tokens.issue({ alarmId: 'A1', level: 2, contact, contactIndex: 0 });
    expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(Buffer.from(token, 'base64url').length * 8).toBeGreaterThanOrEqual(128);
    expect(url).toBe(`https://care.example.cn/r/${token}`);
    const rows = await opened.db.selectFrom('response_tokens').selectAll().execute();
    expect(JSON.stringify(rows)).not.toContain(token);
    expect(rows[0]?.token_hash).toBe(hashToken(token));
    const rec = await tokens.lookup(token);
    expect(rec).toMatchObject({ alarmId: 'A1', level: 2, contactIndex: 0, contact, state: 'issued' });
    const other = await tokens.issue({ alarmId: 'A1', level: 2, contact });
    expect(other.token).not.toBe(token);
  });

  it('answers null for unknown, malformed, expired (24 h), revoked and resolved', async () => {
    await alarm('A2');
    await alarm('A3');
    const tokens = createResponseTokens(opened.db, { publicUrl: 'http://localhost:8080', now });
    expect(await tokens.lookup('x'.repeat(32))).toBeNull();
    expect(await tokens.lookup('../../etc/passwd')).toBeNull();
    expect(await tokens.lookup('a'.repeat(10_000))).toBeNull();
    const a = await tokens.issue({ alarmId: 'A2', level: 1, contact });
    const b = await tokens.issue({ alarmId: 'A3', level: 1, contact });
    nowMs += 24 * 3600_000 - 1000;
    expect(await tokens.lookup(a.token)).not.toBeNull();
    nowMs += 1000;
    expect(await tokens.lookup(a.token)).toBeNull();
    nowMs -= 1000;
    await opened.db.updateTable('alarms').set({ state: 'resolved' }).where('id', '=', 'A3').execute();
    expect(await tokens.lookup(b.token)).toBeNull();
    await opened.db.updateTable('alarms').set({ state: 'active' }).where('id', '=', 'A3').execute();
    expect(await tokens.lookup(b.token)).not.toBeNull();
    expect(await tokens.revokeForAlarm('A3')).toBe(1);
    expect(await tokens.lookup(b.token)).toBeNull();
    nowMs += 2 * 24 * 3600_000;
    expect(await tokens.purgeExpired()).toBeGreaterThanOrEqual(2);
  });

  it('CARE_PUBLIC_URL: unset is null (the server links to itself); a bad value names the key', () => {
    expect(parsePublicUrl({})).toBeNull();
    expect(parsePublicUrl({ CARE_PUBLIC_URL: 'https://x.cn/care/' })).toBe('https://x.cn/care');
    expect(() => parsePublicUrl({ CARE_PUBLIC_URL: 'ftp://x' })).toThrow(/CARE_PUBLIC_URL/);
    expect(() => parsePublicUrl({ CARE_PUBLIC_URL: 'nope' })).toThrow(/CARE_PUBLIC_URL/);
    expect(() => parsePublicUrl({ CARE_PUBLIC_URL: 'https://u:p@x.cn' })).toThrow(/CARE_PUBLIC_URL/);
  });
});

// A `user` contact's re-page goes by their next channel: the first message by Web Push, a re-page
// (page > 0, response-chain.ts) by SMS to their phone. The real person channel and subscription
// store on SQLite; the push service and the SMSC are recorders here, because this checks which way
// the channel chooses (the real push and SMPP paths are tested in channels-push/-smpp and
// test/browser/respond-smpp.test.ts).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ulidSource } from '../../protocol/index.ts';
import { personChannel } from '../../server/channels/person.ts';
import { createPushSubscriptions, type PushSender } from '../../server/channels/push.ts';
import { type OpenedDatabase, openDatabase } from '../../server/storage/db.ts';
import { PERSON_MESSAGE, recordingSms } from '../helpers/person-channel.ts';

let dir: string;
let opened: OpenedDatabase;
const now = () => '2026-12-01T10:00:00.000Z';
const calls: string[] = [];
const push = {
  publicKey: 'test',
  sendTo: async () => {
    calls.push('push');
    return { ok: true as const, state: 'sent' as const, providerId: 'push:1' };
  },
} as unknown as PushSender;
const sms = recordingSms(calls);
const body = PERSON_MESSAGE;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'person-repage-'));
  opened = await openDatabase(dir);
  await opened.db
    .insertInto('users')
    .values({
      id: 'usr-li',
      username: 'li.mei',
      password_hash: 'x',
      role: 'family',
      display_name: '李梅',
      site_id: null,
      resident_id: null,
      created_at: now(),
      phone: '+8613900000001',
    } as never)
    .execute();
  const subs = createPushSubscriptions(opened.db, ulidSource(), now);
  await subs.add('usr-li', { endpoint: 'https://push.example/sub/1', keys: { p256dh: 'p', auth: 'a' } });
});
afterAll(async () => {
  await opened.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('a user contact re-paged', () => {
  it('gets push first and SMS on the re-page', async () => {
    const channel = personChannel({ db: opened.db, push, subscriptions: createPushSubscriptions(opened.db, ulidSource(), now), sms });
    const signal = new AbortController().signal;
    const n = { id: 'n1', alarmId: 'A1', level: 1, target: 'li.mei', body };
    calls.length = 0;
    expect((await channel.send({ ...n, page: 0 }, signal)).ok).toBe(true);
    expect(calls).toEqual(['push']);
    calls.length = 0;
    expect((await channel.send({ ...n, id: 'n2', page: 1 }, signal)).ok).toBe(true);
    expect(calls).toEqual(['sms:+8613900000001']);
  });
});

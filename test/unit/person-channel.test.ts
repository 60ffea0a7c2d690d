// The `user` contact's channel when one of their browsers' push services hangs: the others get the
// push at once and the attempt ends well within the sender's budget; with every push failing, the
// SMS goes. The real channel and subscription store on SQLite; the push service and the SMSC are
// recorders here (the real push and SMPP paths are tested in test/e2e/channels-push/-smpp).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ulidSource } from '../../protocol/index.ts';
import type { Receipt } from '../../server/alarms/notify.ts';
import { personChannel } from '../../server/channels/person.ts';
import { createPushSubscriptions, type PushSender } from '../../server/channels/push.ts';
import { type OpenedDatabase, openDatabase } from '../../server/storage/db.ts';
import type { PushSubscriptionsTable } from '../../server/storage/tables.ts';
import { PERSON_MESSAGE, recordingSms } from '../helpers/person-channel.ts';

let dir: string;
let opened: OpenedDatabase;
const now = () => '2026-12-02T06:00:00.000Z';
const calls: string[] = [];
/** Endpoints whose push service never answers (until the attempt gives up), or refuses. */
const hanging = new Set<string>();
const refusing = new Set<string>();
const push = {
  publicKey: 'test',
  sendTo: (sub: PushSubscriptionsTable, _p: unknown, signal: AbortSignal): Promise<Receipt> => {
    calls.push(`push:${sub.endpoint}`);
    if (refusing.has(sub.endpoint)) return Promise.resolve({ ok: false, error: 'HTTP 500', retry: true });
    if (!hanging.has(sub.endpoint)) return Promise.resolve({ ok: true, state: 'sent', providerId: `push:${sub.endpoint}` });
    return new Promise((resolve) =>
      signal.addEventListener('abort', () => resolve({ ok: false, error: 'aborted', retry: true }), { once: true }),
    );
  },
} as unknown as PushSender;
const sms = recordingSms(calls);
const body = PERSON_MESSAGE;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'person-channel-'));
  opened = await openDatabase(dir);
  await opened.db
    .insertInto('users')
    .values({
      id: 'usr-zhou',
      username: 'zhou',
      password_hash: 'x',
      role: 'grid_worker',
      display_name: '周',
      site_id: null,
      resident_id: null,
      created_at: now(),
      phone: '+8613900000002',
    } as never)
    .execute();
  const subs = createPushSubscriptions(opened.db, ulidSource(), now);
  for (const e of ['https://push.example/dead', 'https://push.example/phone'])
    await subs.add('usr-zhou', { endpoint: e, keys: { p256dh: 'p', auth: 'a' } });
});
afterAll(async () => {
  await opened.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('a user contact with several browsers', () => {
  const channel = () => personChannel({ db: opened.db, push, subscriptions: createPushSubscriptions(opened.db, ulidSource(), now), sms });
  const n = { id: 'n1', alarmId: 'A1', level: 1, target: 'zhou', body, page: 0 };

  it('one hanging push service does not hold the others: sent within the attempt, before the budget ends', async () => {
    hanging.add('https://push.example/dead');
    calls.length = 0;
    const budget = new AbortController();
    const timer = setTimeout(() => budget.abort(), 5_000);
    const started = Date.now();
    const r = await channel().send(n, budget.signal);
    clearTimeout(timer);
    expect(r).toMatchObject({ ok: true, state: 'sent', providerId: 'push:https://push.example/phone' });
    expect(Date.now() - started).toBeLessThan(4_500);
    expect(calls).toEqual(expect.arrayContaining(['push:https://push.example/dead', 'push:https://push.example/phone']));
    hanging.clear();
  });

  it('when every push fails, the SMS to their phone goes in the same attempt', async () => {
    refusing.add('https://push.example/dead');
    refusing.add('https://push.example/phone');
    calls.length = 0;
    const r = await channel().send(n, new AbortController().signal);
    expect(r).toMatchObject({ ok: true, providerId: 'smpp:1' });
    expect(calls.at(-1)).toBe('sms:+8613900000002');
    refusing.clear();
  });
});

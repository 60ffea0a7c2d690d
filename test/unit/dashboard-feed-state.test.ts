// The screen's copy of the feed: snapshot, upsert by id, resolved alarms leave, duplicate and old
// messages from catch-up are ignored, `since` is the highest sequence applied, reconnect backoff.
import { describe, expect, it } from 'vitest';
import { applyMessage, emptyFeed, type FeedState, parseMessage, upsertAlarm } from '../../dashboard/src/lib/feed-state.ts';
import { BACKOFF_CAP_MS, backoffDelay, feedUrl } from '../../dashboard/src/lib/reconnect.ts';
import type { WsMessage } from '../../protocol/schemas.ts';
import { alarm } from './dashboard-fixtures.ts';

const applyAll = (msgs: WsMessage[], start: FeedState = emptyFeed) => msgs.reduce(applyMessage, start);

describe('dashboard feed state', () => {
  it('a snapshot sets the open alarms and the sequence', () => {
    const s = applyAll([{ type: 'snapshot', seq: 100, alarms: [alarm({ id: 'a' }), alarm({ id: 'b', state: 'acknowledged' })] }]);
    expect(s.seq).toBe(100);
    expect([...s.alarms.keys()]).toEqual(['a', 'b']);
  });

  it('an alarm message inserts a new alarm and replaces a changed one by id', () => {
    const s = applyAll([
      { type: 'snapshot', seq: 100, alarms: [alarm({ id: 'a' })] },
      { type: 'alarm', seq: 101, alarm: alarm({ id: 'b', type: 'fall' }) },
      { type: 'alarm', seq: 102, alarm: alarm({ id: 'a', state: 'acknowledged', ackBy: 'li' }) },
      { type: 'alarm', seq: 103, alarm: alarm({ id: 'b', type: 'fall', count: 2 }) },
    ]);
    expect(s.seq).toBe(103);
    expect(s.alarms.size).toBe(2);
    expect(s.alarms.get('a')?.state).toBe('acknowledged');
    expect(s.alarms.get('b')?.count).toBe(2);
  });

  it('a resolved alarm leaves the board', () => {
    const s = applyAll([
      { type: 'snapshot', seq: 1, alarms: [alarm({ id: 'a' })] },
      { type: 'alarm', seq: 2, alarm: alarm({ id: 'a', state: 'resolved' }) },
    ]);
    expect(s.alarms.size).toBe(0);
    expect(s.seq).toBe(2);
  });

  it('a message at or below the applied sequence is a duplicate and changes nothing', () => {
    const s1 = applyAll([
      { type: 'snapshot', seq: 10, alarms: [] },
      { type: 'alarm', seq: 11, alarm: alarm({ id: 'a', state: 'acknowledged' }) },
    ]);
    const s2 = applyMessage(s1, { type: 'alarm', seq: 11, alarm: alarm({ id: 'a', state: 'active' }) });
    const s3 = applyMessage(s2, { type: 'alarm', seq: 5, alarm: alarm({ id: 'old' }) });
    expect(s3).toBe(s1);
  });

  it('a fresh snapshot after reconnect replaces everything, even with a lower sequence (server restarted)', () => {
    const s = applyAll([
      { type: 'snapshot', seq: 500, alarms: [alarm({ id: 'a' }), alarm({ id: 'gone' })] },
      { type: 'snapshot', seq: 300, alarms: [alarm({ id: 'a', count: 3 })] },
      { type: 'alarm', seq: 301, alarm: alarm({ id: 'c' }) },
    ]);
    expect([...s.alarms.keys()].sort()).toEqual(['a', 'c']);
    expect(s.alarms.get('a')?.count).toBe(3);
    expect(s.seq).toBe(301);
  });

  it('device and gateway status are kept apart; a status without battery keeps the last battery', () => {
    const s = applyAll([
      { type: 'snapshot', seq: 1, alarms: [] },
      { type: 'device_status', seq: 2, gatewayId: 'gw-1', deviceId: 'btn-203', state: 'online', lastSeen: 't1', battery: 80 },
      { type: 'device_status', seq: 3, gatewayId: 'gw-1', deviceId: 'btn-203', state: 'online', lastSeen: 't2', battery: null },
      { type: 'device_status', seq: 4, gatewayId: 'gw-1', deviceId: null, state: 'offline', lastSeen: 't3', battery: null },
    ]);
    expect(s.devices.get('btn-203')).toMatchObject({ lastSeen: 't2', battery: 80 });
    expect(s.gateways.get('gw-1')?.state).toBe('offline');
    expect(s.seq).toBe(4);
  });

  it('upsert does not mutate the map it was given', () => {
    const m = new Map([['a', alarm({ id: 'a' })]]);
    const next = upsertAlarm(m, alarm({ id: 'b' }));
    expect(m.size).toBe(1);
    expect(next.size).toBe(2);
  });

  it('parses known feed frames and drops anything else', () => {
    expect(parseMessage('{"type":"snapshot","seq":1,"alarms":[]}')?.type).toBe('snapshot');
    expect(parseMessage('not json')).toBeNull();
    expect(parseMessage('{"type":"alarm","seq":"1","alarm":{}}')).toBeNull();
    expect(parseMessage('{"type":"ping","seq":1}')).toBeNull();
    expect(parseMessage('null')).toBeNull();
  });
});

describe('dashboard reconnect bookkeeping', () => {
  it('asks for a snapshot first, then for what was missed since the last sequence', () => {
    const loc = { protocol: 'http:', host: 'care.local:8080' };
    expect(feedUrl(loc, 'a b', null)).toBe('ws://care.local:8080/ws?token=a%20b');
    expect(feedUrl(loc, 'tok', 1234)).toBe('ws://care.local:8080/ws?token=tok&since=1234');
    expect(feedUrl({ protocol: 'https:', host: 'h' }, 't', 0)).toBe('wss://h/ws?token=t&since=0');
  });

  it('backs off from a quarter second, doubling, never beyond 5 s', () => {
    const top = () => 1;
    expect(backoffDelay(0, top)).toBe(250);
    expect(backoffDelay(1, top)).toBe(500);
    expect(backoffDelay(3, top)).toBe(2000);
    for (const n of [5, 6, 20, 1000]) expect(backoffDelay(n, top)).toBe(BACKOFF_CAP_MS);
    for (let n = 0; n < 30; n++) {
      const d = backoffDelay(n);
      expect(d).toBeGreaterThan(0);
      expect(d).toBeLessThanOrEqual(BACKOFF_CAP_MS);
    }
    expect(backoffDelay(10, () => 0)).toBe(3750);
  });
});

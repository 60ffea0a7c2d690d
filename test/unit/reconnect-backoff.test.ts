// reconnectWithBackoff's schedule, on vitest's fake timers (no broker: the client is a stand-in
// with the four members the helper uses; the real reconnect is covered by external-broker.test.ts).
import { EventEmitter } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { backoffCeiling, reconnectWithBackoff } from '../../protocol/backoff.ts';
import { EXTERNAL_BROKER_BACKOFF } from '../../server/broker/external.ts';

class StandInClient extends EventEmitter {
  disconnecting = false;
  disconnected = false;
  reconnects: number[] = [];
  reconnect() {
    this.reconnects.push(Date.now());
  }
}

/** Loses the connection n times in a row (each reconnect fails at once); the delays between. */
function delaysOfFailedAttempts(client: StandInClient, n: number): number[] {
  const delays: number[] = [];
  for (let i = 0; i < n; i++) {
    const lostAt = Date.now();
    client.emit('close');
    vi.advanceTimersToNextTimer();
    delays.push((client.reconnects.at(-1) ?? Number.NaN) - lostAt);
  }
  return delays;
}

describe('reconnectWithBackoff', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 0 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('the external broker: full jitter under a ceiling doubling from 1 s to 10 s, starting over once connected', () => {
    const client = new StandInClient();
    reconnectWithBackoff(client, { ...EXTERNAL_BROKER_BACKOFF, random: () => 0.5 });
    expect(delaysOfFailedAttempts(client, 6)).toEqual([500, 1000, 2000, 4000, 5000, 5000]);
    client.emit('connect');
    expect(delaysOfFailedAttempts(client, 2)).toEqual([500, 1000]);
  });

  it('every delay lies in [0, ceiling): with random near 1 just under it, with 0 at once', () => {
    const high = new StandInClient();
    reconnectWithBackoff(high, { ...EXTERNAL_BROKER_BACKOFF, random: () => 0.999 });
    const delays = delaysOfFailedAttempts(high, 6);
    delays.forEach((d, i) => {
      expect(d).toBeLessThan(backoffCeiling(i, EXTERNAL_BROKER_BACKOFF));
      expect(d).toBeGreaterThanOrEqual(0.99 * backoffCeiling(i, EXTERNAL_BROKER_BACKOFF));
    });
    const low = new StandInClient();
    reconnectWithBackoff(low, { ...EXTERNAL_BROKER_BACKOFF, random: () => 0 });
    expect(delaysOfFailedAttempts(low, 3)).toEqual([0, 0, 0]);
  });

  it('a second close while a retry is pending schedules no second retry', () => {
    const client = new StandInClient();
    reconnectWithBackoff(client, { ...EXTERNAL_BROKER_BACKOFF, random: () => 0.5 });
    client.emit('close');
    client.emit('close');
    vi.advanceTimersByTime(60_000);
    expect(client.reconnects).toEqual([500]);
  });

  it('an ended client is not reconnected: end() cancels the pending retry, a close after it schedules none', () => {
    const client = new StandInClient();
    reconnectWithBackoff(client, { ...EXTERNAL_BROKER_BACKOFF, random: () => 0.5 });
    client.emit('close');
    client.disconnecting = true;
    client.emit('end');
    client.emit('close');
    vi.advanceTimersByTime(60_000);
    expect(client.reconnects).toEqual([]);
  });
});

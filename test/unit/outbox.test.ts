// The gateway's durable outbox: seq survives a reopen, confirmed events leave, and when it is full
// the oldest telemetry goes first while events are never dropped.
import { describe, expect, it } from 'vitest';
import { openOutbox } from '../../gateway/outbox/outbox.ts';
import { tempDir } from '../helpers/harness.ts';

describe('outbox', () => {
  it('keeps the per-gateway seq across a reopen', () => {
    const dir = tempDir('care-outbox-');
    const a = openOutbox(dir);
    expect(a.appendEvent('e1', (seq) => JSON.stringify({ seq })).seq).toBe(1);
    expect(a.appendEvent('e2', (seq) => JSON.stringify({ seq })).seq).toBe(2);
    a.close();
    const b = openOutbox(dir);
    expect(b.appendEvent('e3', (seq) => JSON.stringify({ seq })).seq).toBe(3);
    expect(b.pendingEvents(0, 10).map((e) => e.id)).toEqual(['e1', 'e2', 'e3']);
    b.close();
  });

  it('never reuses a seq handed out from memory while the disk was unwritable', () => {
    const o = openOutbox(tempDir('care-outbox-'));
    expect(o.appendEvent('e1', (seq) => JSON.stringify({ seq })).seq).toBe(1);
    expect(o.reserveSeq()).toBe(2);
    expect(o.reserveSeq()).toBe(3);
    o.probeWrite();
    expect(o.appendEvent('e4', (seq) => JSON.stringify({ seq })).seq).toBe(4);
    o.close();
  });

  it('removes only what the server confirmed', () => {
    const o = openOutbox(tempDir('care-outbox-'));
    for (const id of ['a', 'b', 'c']) o.appendEvent(id, () => '{}');
    expect(o.confirm(['b', 'unknown'])).toBe(1);
    expect(o.pendingEvents(0, 10).map((e) => e.id)).toEqual(['a', 'c']);
    o.close();
  });

  it('when full, drops the oldest telemetry first and never an event', () => {
    const o = openOutbox(tempDir('care-outbox-'), { maxRows: 10 });
    for (let i = 0; i < 6; i += 1) o.appendTelemetry(JSON.stringify({ batch: i }), 100);
    for (let i = 0; i < 8; i += 1) o.appendEvent(`e${i}`, () => '{}');
    o.appendTelemetry(JSON.stringify({ batch: 'newest' }), 100);
    const depth = o.depth();
    expect(depth.events).toBe(8);
    expect(depth.events + depth.telemetry).toBeLessThanOrEqual(10);
    expect(depth.droppedTelemetryBatches).toBeGreaterThan(0);
    const kept = o.oldestTelemetry(10).map((t) => JSON.parse(t.payload).batch);
    expect(kept.at(-1)).toBe('newest');
    expect(kept).not.toContain(0);
    // Past the limit with events alone: they are all kept.
    for (let i = 8; i < 20; i += 1) o.appendEvent(`e${i}`, () => '{}');
    expect(o.depth().events).toBe(20);
    o.close();
  });
});

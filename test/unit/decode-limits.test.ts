// Shape bounds at the wire edge (protocol/decode.ts, EVENT_LIMITS): an event's free-form `data` of
// any depth, width or size is either refused with its reason or small enough for everything
// downstream (JSON.stringify, the database, the screens). Property tests, as for every decoder.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createDecoder, DeviceEvent, EVENT_LIMITS } from '../../protocol/index.ts';

const decodeEvent = createDecoder(DeviceEvent, EVENT_LIMITS);
const envelope = (data: string) =>
  `{"v":1,"id":"e1","seq":1,"ts":"2026-12-01T00:00:00.000Z","device":"d","type":"presence","data":${data}}`;

function depthOf(value: unknown): number {
  let max = 0;
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [v, d] = stack.pop() as [unknown, number];
    if (v === null || typeof v !== 'object') continue;
    max = Math.max(max, d);
    for (const c of Object.values(v)) stack.push([c, d + 1]);
  }
  return max;
}

describe('event data bounds', () => {
  it('refuses data nested past 16 levels, whatever the depth, without throwing', () => {
    fc.assert(
      fc.property(fc.integer({ min: 17, max: 200_000 }), fc.boolean(), (depth, arrays) => {
        const data = arrays
          ? `{"x":${'['.repeat(depth - 1)}${']'.repeat(depth - 1)}}`
          : `{"x":${'{"a":'.repeat(depth - 1)}1${'}'.repeat(depth - 1)}}`;
        const d = decodeEvent.decode(envelope(data));
        expect(d.ok).toBe(false);
        expect(!d.ok && d.reason).toMatch(/^too_(deep|large)$/);
      }),
      { numRuns: 50 },
    );
  });

  it('accepts data up to 16 levels', () => {
    const d = decodeEvent.decode(envelope(`{"x":${'{"a":'.repeat(15)}1${'}'.repeat(15)}}`));
    expect(d.ok).toBe(true);
  });

  it('refuses more than 1,000 values or 16 KiB, and says which', () => {
    const wide = decodeEvent.decode(envelope(JSON.stringify({ list: Array.from({ length: 1001 }, () => 0) })));
    expect(wide).toMatchObject({ ok: false, reason: 'too_large' });
    const long = decodeEvent.decode(envelope(JSON.stringify({ s: 'x'.repeat(17 * 1024) })));
    expect(long).toMatchObject({ ok: false, reason: 'too_large' });
    // The gateway checks its own events with the same bounds before they enter its outbox.
    expect(
      decodeEvent.check({
        v: 1,
        id: 'e1',
        seq: 1,
        ts: '2026-12-01T00:00:00.000Z',
        device: 'd',
        type: 'call',
        data: { s: 'x'.repeat(17 * 1024) },
      }),
    ).toMatchObject({
      ok: false,
      reason: 'too_large',
    });
  });

  it('whatever it accepts is within the bounds and serialises', () => {
    const data = fc.oneof(
      fc.jsonValue({ maxDepth: 30 }),
      fc.integer({ min: 1, max: 40 }).map((n) => JSON.parse(`${'['.repeat(n)}${']'.repeat(n)}`) as unknown),
    );
    fc.assert(
      fc.property(fc.dictionary(fc.string({ maxLength: 64 }), data, { maxKeys: 30 }), (d) => {
        const r = decodeEvent.decode(envelope(JSON.stringify(d)));
        if (!r.ok) return;
        expect(depthOf(r.value)).toBeLessThanOrEqual(EVENT_LIMITS.maxDepth);
        expect(Buffer.byteLength(JSON.stringify(r.value.data))).toBeLessThanOrEqual(EVENT_LIMITS.maxBytes);
      }),
      { numRuns: 300 },
    );
  });
});

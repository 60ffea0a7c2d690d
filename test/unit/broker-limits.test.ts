// The broker's limits as pure parts: packet sizes read from MQTT fixed headers however the bytes
// are split, the per-gateway rate kept by gateway id, and the default packet limit against the
// largest payload the contract allows a gateway to send.
import fc from 'fast-check';
import { Compile } from 'typebox/compile';
import { describe, expect, it } from 'vitest';
import { gatewayTopic, TelemetryBatch } from '../../protocol/index.ts';
import { DEFAULT_CONNECTION_LIMITS } from '../../server/broker/connection-guard.ts';
import { FrameSizeWatch } from '../../server/broker/frame-size.ts';
import { createGatewayRateLimit } from '../../server/broker/rate-limit.ts';

/** The fixed header of a packet of type `type` whose body is `size` bytes [MQTT-2.2.3]. */
function header(size: number, type = 0x30): Buffer {
  const len: number[] = [];
  let n = size;
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    len.push(b);
  } while (n > 0);
  return Buffer.from([type, ...len]);
}

const packet = (size: number, type = 0x30) => Buffer.concat([header(size, type), Buffer.alloc(size, 0x61)]);

/** Feeds `bytes` in pieces cut at `cuts`; the first refusal, or ok. */
function feedSplit(bytes: Buffer, cuts: number[], limit: number) {
  const watch = new FrameSizeWatch();
  const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  let from = 0;
  for (const to of [...at, bytes.length]) {
    const v = watch.feed(bytes.subarray(from, to), () => limit);
    if (!v.ok) return v;
    from = to;
  }
  return { ok: true as const };
}

describe('packet sizes from fixed headers', () => {
  it('packets within the limit pass however the stream is split', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 300 }), { maxLength: 8 }), fc.array(fc.nat()), (sizes, cuts) => {
        const bytes = Buffer.concat(sizes.map((s) => packet(s)));
        expect(feedSplit(bytes, cuts, 300)).toEqual({ ok: true });
      }),
    );
  });

  it('a packet over the limit is refused at its header, before its body, however split', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 100 }), { maxLength: 4 }),
        fc.integer({ min: 101, max: 2 ** 28 - 1 }),
        fc.array(fc.nat()),
        (before, big, cuts) => {
          // Only the header of the big packet is sent: the refusal must not need its body.
          const bytes = Buffer.concat([...before.map((s) => packet(s)), header(big)]);
          expect(feedSplit(bytes, cuts, 100)).toEqual({ ok: false, reason: 'too_large', declared: big });
        },
      ),
    );
  });

  it('a CONNECT declaring 250 MB is refused from its first five bytes', () => {
    const bytes = header(250 * 1024 * 1024, 0x10);
    expect(bytes.length).toBe(5);
    expect(new FrameSizeWatch().feed(bytes, () => 64 * 1024)).toEqual({ ok: false, reason: 'too_large', declared: 250 * 1024 * 1024 });
  });

  it('a fifth remaining-length byte is malformed', () => {
    expect(new FrameSizeWatch().feed(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]), () => 1e9)).toEqual({
      ok: false,
      reason: 'malformed',
    });
  });

  it('the limit is read per packet, so it can change at log-in', () => {
    const watch = new FrameSizeWatch();
    let limit = 10;
    expect(watch.feed(packet(10, 0x10), () => limit).ok).toBe(true);
    limit = 1000;
    expect(watch.feed(packet(500), () => limit).ok).toBe(true);
  });
});

describe('the per-gateway rate', () => {
  it('is kept per gateway id: taking the burst leaves another gateway untouched', () => {
    let t = 0;
    const rate = createGatewayRateLimit({ perSecond: 2, burst: 3 }, { now: () => t });
    expect([1, 2, 3, 4].map(() => rate.take('gw-a'))).toEqual([true, true, true, false]);
    expect(rate.take('gw-b')).toBe(true);
    t += 500; // one token back
    expect([rate.take('gw-a'), rate.take('gw-a')]).toEqual([true, false]);
  });

  it('stays bounded: buckets full again are dropped once the map grows, and nothing is forgotten early', () => {
    let t = 0;
    const rate = createGatewayRateLimit({ perSecond: 10, burst: 10 }, { now: () => t, sweepAbove: 100 });
    for (let i = 0; i < 10; i += 1) rate.take('busy');
    for (let i = 0; i < 500; i += 1) rate.take(`gw-${i}`);
    t += 2000;
    // Takes one each after 2 s: the sweep ran, dropping the idle ones.
    for (let i = 0; i < 10; i += 1) rate.take('busy');
    expect(rate.take('busy')).toBe(false);
    expect(rate.size()).toBeLessThanOrEqual(2);
  });
});

describe('the default packet limit', () => {
  it('holds the largest telemetry batch the contract allows (5,000 points, longest ids and values)', () => {
    const ts = '2026-11-22T23:00:00.123456789+08:00';
    const batch = {
      v: 1,
      ts,
      points: Array.from({ length: 5000 }, (_, i) => ({
        device: `d${String(i).padStart(63, '0')}`,
        metric: 'bp_diastolic',
        value: -2.2250738585072014e-308,
        ts,
      })),
    };
    expect(Compile(TelemetryBatch).Check(batch)).toBe(true);
    const topic = gatewayTopic('s'.repeat(64), 'g'.repeat(64), 'telemetry');
    // PUBLISH QoS 1: topic length (2) + topic + packet id (2) + payload.
    const size = 2 + Buffer.byteLength(topic) + 2 + Buffer.byteLength(JSON.stringify(batch));
    expect(size).toBeGreaterThan(800_000);
    expect(size).toBeLessThan(DEFAULT_CONNECTION_LIMITS.maxPacketBytes);
  });
});

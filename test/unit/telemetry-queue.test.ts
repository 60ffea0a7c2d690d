// The telemetry lane's queue (server/ingest/telemetry-queue.ts): bounded, and when full it sheds
// the fullest gateway's oldest message, so one flooding gateway cannot push out another's readings.
import { describe, expect, it } from 'vitest';
import { createTelemetryQueue } from '../../server/ingest/telemetry-queue.ts';

const msg = (gatewayId: string, n: number, bytes = 10) => ({
  siteId: 's',
  gatewayId,
  topic: `care/v1/s/${gatewayId}/telemetry#${n}`,
  payload: new Uint8Array(bytes),
});

describe('telemetry queue', () => {
  it("a flooding gateway sheds its own backlog; another gateway's reading stays queued", () => {
    const q = createTelemetryQueue({ maxMessages: 100, maxBytes: 1_000_000 });
    let dropped = q.push(msg('quiet', 0));
    for (let i = 0; i < 10_000; i += 1) dropped += q.push(msg('flood', i));
    expect(q.length).toBe(100);
    expect(dropped).toBe(10_001 - 100);
    const all = q.take(1000);
    expect(all.filter((m) => m.gatewayId === 'quiet')).toHaveLength(1);
    // What stays of the flood is its newest, in order.
    expect(all.at(-1)?.topic).toBe('care/v1/s/flood/telemetry#9999');
    expect(q.length).toBe(0);
  });

  it('is bounded in bytes too, shedding from the gateway holding the most', () => {
    const q = createTelemetryQueue({ maxMessages: 1000, maxBytes: 1000 });
    q.push(msg('quiet', 0, 100));
    for (let i = 0; i < 50; i += 1) q.push(msg('flood', i, 100));
    const all = q.take(1000);
    expect(all.reduce((n, m) => n + m.payload.byteLength, 0)).toBeLessThanOrEqual(1000);
    expect(all.some((m) => m.gatewayId === 'quiet')).toBe(true);
  });
});

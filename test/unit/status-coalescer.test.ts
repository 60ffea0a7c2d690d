import { describe, expect, it } from 'vitest';
import type { DeviceStatusUpdate } from '../../server/ingest/ingest.ts';
import { createStatusCoalescer } from '../../server/ws/status-coalescer.ts';

const heard = (deviceId: string | null, over: Partial<DeviceStatusUpdate> = {}): DeviceStatusUpdate => ({
  gatewayId: 'gw-1',
  deviceId,
  state: 'online',
  lastSeen: '2026-12-02T10:00:00.000Z',
  battery: 80,
  ...over,
});

describe('device status coalescer', () => {
  it('passes a change at once and a device merely heard again at most once per interval', () => {
    let t = 0;
    const out: DeviceStatusUpdate[] = [];
    const c = createStatusCoalescer({ intervalMs: 30_000, now: () => t, publish: (u) => out.push(u) });
    c.push(heard('btn-1'));
    t = 1_000;
    c.push(heard('btn-1')); // only last-seen: held
    c.push(heard('btn-2')); // another device: its first status passes
    c.push(heard('btn-1', { battery: 79 })); // a battery change passes
    c.push(heard('btn-1', { state: 'offline' })); // a state change passes
    c.push(heard(null, { state: 'online' })); // the gateway's own status always passes
    c.push(heard(null, { state: 'online' }));
    expect(out.map((u) => [u.deviceId, u.state, u.battery])).toEqual([
      ['btn-1', 'online', 80],
      ['btn-2', 'online', 80],
      ['btn-1', 'online', 79],
      ['btn-1', 'offline', 80],
      [null, 'online', 80],
      [null, 'online', 80],
    ]);
    expect(c.held).toBe(1);
    t = 31_000 + 1_000;
    c.push(heard('btn-1', { state: 'offline' })); // same state, but the interval has passed
    expect(out).toHaveLength(7);
  });

  it('remembers a bounded number of devices; a forgotten one passes again', () => {
    const out: DeviceStatusUpdate[] = [];
    const c = createStatusCoalescer({ maxDevices: 3, now: () => 0, publish: (u) => out.push(u) });
    for (const d of ['a', 'b', 'c', 'd']) c.push(heard(d)); // 'a' is forgotten
    c.push(heard('d')); // held
    c.push(heard('a')); // passes
    expect(out.map((u) => u.deviceId)).toEqual(['a', 'b', 'c', 'd', 'a']);
  });
});

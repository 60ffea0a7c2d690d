// Property tests of every payload decoder at the wire edge: whatever bytes arrive, decoding returns
// a verdict and never throws, and what it accepts really satisfies the contract.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BoundedLineParser, parseNdjsonLine } from '../../gateway/parsers/ndjson.ts';
import {
  createDecoder,
  DeviceEvent,
  GatewayCmd,
  GatewayStatus,
  parsedTopicsHeld,
  parseGatewayTopic,
  TelemetryBatch,
} from '../../protocol/index.ts';
import { mayPublish, maySubscribe } from '../../server/broker/policy.ts';

const decoders = {
  event: createDecoder(DeviceEvent),
  telemetry: createDecoder(TelemetryBatch),
  status: createDecoder(GatewayStatus),
  cmd: createDecoder(GatewayCmd),
};

const validEvent = fc.record({
  v: fc.constant(1),
  id: fc.stringMatching(/^[A-Za-z0-9]{1,26}$/),
  seq: fc.nat(),
  ts: fc.date({ min: new Date('2020-01-01'), max: new Date('2030-01-01'), noInvalidDate: true }).map((d) => d.toISOString()),
  device: fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/),
  type: fc.constantFrom('fall', 'call', 'bed_exit', 'door_open', 'low_battery'),
});

describe('payload decoders', () => {
  it('never throw on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), (bytes) => {
        for (const d of Object.values(decoders)) expect(d.decode(Buffer.from(bytes)).ok).toBeTypeOf('boolean');
      }),
    );
  });

  it('never throw on random JSON, including prototype-named keys', () => {
    const json = fc.oneof(
      fc.jsonValue(),
      fc.dictionary(fc.constantFrom('__proto__', 'constructor', 'prototype', 'v', 'id'), fc.jsonValue()),
    );
    fc.assert(
      fc.property(json, (value) => {
        for (const d of Object.values(decoders)) expect(d.decode(JSON.stringify(value) ?? 'null').ok).toBeTypeOf('boolean');
      }),
    );
  });

  it('accept every valid event and refuse it with any unknown field added', () => {
    fc.assert(
      fc.property(validEvent, fc.stringMatching(/^[a-z]{1,8}$/), (e, extra) => {
        expect(decoders.event.decode(JSON.stringify(e)).ok).toBe(true);
        if (!(extra in e)) expect(decoders.event.decode(JSON.stringify({ ...e, [extra]: 1 })).ok).toBe(false);
      }),
    );
  });

  it('NDJSON lines: random text never throws, and valid lines round-trip', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (s) => {
        expect(['event', 'reading', 'invalid']).toContain(parseNdjsonLine(s).kind);
      }),
    );
    fc.assert(
      fc.property(validEvent, (e) => {
        const m = parseNdjsonLine(JSON.stringify({ device: e.device, type: e.type }));
        expect(m).toMatchObject({ kind: 'event', device: e.device, type: e.type });
      }),
    );
  });

  it('the NDJSON line parser keeps its buffer bounded whatever arrives', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.uint8Array({ maxLength: 3000 }), { maxLength: 20 }), async (chunks) => {
        const p = new BoundedLineParser({ maxLineBytes: 512 });
        const lines: string[] = [];
        p.on('data', (l: string) => lines.push(l));
        for (const c of chunks) p.write(Buffer.from(c));
        p.end();
        await new Promise((r) => p.once('end', r).resume());
        expect(lines.every((l) => Buffer.byteLength(l) <= 512)).toBe(true);
      }),
      { numRuns: 50 },
    );
  });
});

describe('topics and ACLs', () => {
  it('random topics never throw and never pass the ACL for another gateway', () => {
    const who = { siteId: 'site-1', gatewayId: 'gw-1' };
    fc.assert(
      fc.property(fc.string({ maxLength: 120 }), fc.boolean(), (topic, retain) => {
        parseGatewayTopic(topic);
        const refused = mayPublish(who, topic, retain) !== null;
        if (!topic.startsWith('care/v1/site-1/gw-1/')) expect(refused).toBe(true);
        if (topic !== 'care/v1/site-1/gw-1/cmd') expect(maySubscribe(who, topic)).not.toBeNull();
      }),
    );
  });

  it('prototype-named ids are not gateway topics', () => {
    expect(parseGatewayTopic('care/v1/__proto__/gw/events')).toBeNull();
    expect(parseGatewayTopic('care/v1/site/constructor/events')).toBeNull();
    expect(parseGatewayTopic('care/v1/site/gw/events/extra')).toBeNull();
    expect(parseGatewayTopic('care/v1/site/gw/+')).toBeNull();
  });

  it('parsed topics are kept (frozen, shared) within a bound that invented topics cannot grow past', () => {
    const a = parseGatewayTopic('care/v1/site-m/gw-m/events');
    expect(a).toEqual({ siteId: 'site-m', gatewayId: 'gw-m', kind: 'events' });
    expect(parseGatewayTopic('care/v1/site-m/gw-m/events')).toBe(a);
    expect(Object.isFrozen(a)).toBe(true);
    for (let i = 0; i < 50_000; i += 1) parseGatewayTopic(`care/v1/site-${i}/gw-${i}/${i % 2 ? 'events' : 'nope'}`);
    expect(parsedTopicsHeld()).toBeLessThanOrEqual(20_000);
    // Topics that do not parse are never held: MQTT allows 64 KiB topics, 20,000 of them would be 1.3 GB.
    const held = parsedTopicsHeld();
    for (let i = 0; i < 100; i += 1) expect(parseGatewayTopic(`care/v1/s/${'x'.repeat(60_000)}${i}/events`)).toBeNull();
    expect(parsedTopicsHeld()).toBe(held);
    expect(parseGatewayTopic('care/v1/site-m/gw-m/events')).toEqual(a);
    expect(parseGatewayTopic('care/v1/site-1/gw-1/nope')).toBeNull();
  });
});

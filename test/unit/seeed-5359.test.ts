// The Seeed "53 59" framing and its mapping to events and readings, on the real frames of
// devices.md section 1, split and corrupted in every way a serial line can.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createSeeed5359Protocol } from '../../gateway/adapters/seeed.ts';
import type { AdapterSink } from '../../gateway/adapters/types.ts';
import type { SerialEntry } from '../../gateway/config.ts';
import { encodeSeeed5359, type Seeed5359Frame, Seeed5359Parser } from '../../gateway/parsers/seeed-5359.ts';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

const EXAMPLES = {
  heartbeat: hex('53 59 01 01 00 01 0F BE 54 43'),
  fall: hex('53 59 83 01 00 01 01 32 54 43'),
  noFall: hex('53 59 83 01 00 01 00 31 54 43'),
  present: hex('53 59 80 01 00 01 01 2F 54 43'),
  moving: hex('53 59 80 02 00 01 02 31 54 43'),
  heartRate72: hex('53 59 85 02 00 01 48 7C 54 43'),
  breathing16: hex('53 59 81 02 00 01 10 40 54 43'),
  mr60fda1Capture: hex('53 59 83 0E 00 06 00 02 00 00 00 64 A9 54 43'),
};
const EXPECTED: Record<keyof typeof EXAMPLES, [number, number, string]> = {
  heartbeat: [0x01, 0x01, '0f'],
  fall: [0x83, 0x01, '01'],
  noFall: [0x83, 0x01, '00'],
  present: [0x80, 0x01, '01'],
  moving: [0x80, 0x02, '02'],
  heartRate72: [0x85, 0x02, '48'],
  breathing16: [0x81, 0x02, '10'],
  mr60fda1Capture: [0x83, 0x0e, '000200000064'],
};
const ALL = Object.values(EXAMPLES);

type Plain = { control: number; command: number; data: string };
const plain = (f: Seeed5359Frame): Plain => ({ control: f.control, command: f.command, data: f.data.toString('hex') });

function parse(chunks: Buffer[], parser = new Seeed5359Parser()): Plain[] {
  const out: Plain[] = [];
  parser.on('data', (f: Seeed5359Frame) => out.push(plain(f)));
  for (const c of chunks) parser.write(c);
  return out;
}

type Recorded = { kind: string; device?: string; type?: string; data?: Record<string, unknown>; metric?: string; value?: number } & Record<
  string,
  unknown
>;

/** What the gateway's sink would receive, in order. */
class RecordingSink implements AdapterSink {
  readonly records: Recorded[] = [];
  event(e: Parameters<AdapterSink['event']>[0]) {
    this.records.push({ kind: 'event', ...e });
  }
  reading(r: Parameters<AdapterSink['reading']>[0]) {
    this.records.push({ kind: 'reading', ...r });
  }
  seen(device: string) {
    this.records.push({ kind: 'seen', device });
  }
  fault(device: string, message: string) {
    this.records.push({ kind: 'fault', device, message });
  }
  recovered(device: string) {
    this.records.push({ kind: 'recovered', device });
  }
  rejected(source: string, reason: string) {
    this.records.push({ kind: 'rejected', source, reason });
  }
  readings() {
    return this.records.filter((x) => x.kind === 'reading').map((x) => ({ metric: x.metric, value: x.value }));
  }
}

const entry: SerialEntry = { path: '/dev/ttyTEST0', protocol: 'seeed-5359', device: 'radar-203' };

/** Bytes through the real parser and protocol into a sink that records what the gateway would get. */
function radar(opts: { now?: () => number } = {}) {
  const protocol = createSeeed5359Protocol(opts);
  const sink = new RecordingSink();
  const parser = protocol.createParser();
  const e = { ...entry };
  parser.on('data', (m: unknown) => protocol.handle(m, e, sink));
  return { sink, send: (...frames: Buffer[]) => parser.write(Buffer.concat(frames)) };
}
const events = (r: Recorded[]) => r.filter((x) => x.kind === 'event');

describe('53 59 parser', () => {
  it.each(Object.entries(EXAMPLES))('decodes the devices.md example %s', (name, bytes) => {
    const [control, command, data] = EXPECTED[name as keyof typeof EXAMPLES];
    expect(parse([bytes])).toEqual([{ control, command, data }]);
  });

  it('decodes every example frame sent back to back, in order', () => {
    expect(parse([Buffer.concat(ALL)])).toHaveLength(ALL.length);
  });

  it('decodes a stream split in two at every byte boundary', () => {
    const stream = Buffer.concat(ALL);
    const whole = parse([stream]);
    for (let cut = 0; cut <= stream.length; cut++) {
      expect(parse([stream.subarray(0, cut), stream.subarray(cut)]), `cut at ${cut}`).toEqual(whole);
    }
  });

  it('decodes a stream delivered one byte at a time', () => {
    const stream = Buffer.concat(ALL);
    expect(parse([...stream].map((b) => Buffer.from([b])))).toEqual(parse([stream]));
  });

  it('skips garbage before and between frames, including lone header halves', () => {
    const garbage = hex('00 FF 53 00 59 53 53 54 43 59');
    const p = new Seeed5359Parser();
    const frames = parse([garbage, EXAMPLES.fall, garbage, hex('53'), EXAMPLES.heartRate72, hex('59 59 53')], p);
    expect(frames.map((f) => f.control)).toEqual([0x83, 0x85]);
    expect(p.stats.frames).toBe(2);
    expect(p.bufferedBytes).toBe(1); // the trailing 53 may start a header
  });

  it('drops a frame with a bad checksum, counts it, and decodes the frame after it', () => {
    const bad = Buffer.from(EXAMPLES.fall);
    bad[7] = 0x33;
    const p = new Seeed5359Parser();
    expect(parse([bad, EXAMPLES.noFall], p)).toEqual([{ control: 0x83, command: 0x01, data: '00' }]);
    expect(p.stats.badFrames).toBe(1);
  });

  it('drops a frame whose tail is not 54 43', () => {
    const bad = Buffer.from(EXAMPLES.present);
    bad[9] = 0x44;
    const p = new Seeed5359Parser();
    expect(parse([bad, EXAMPLES.heartbeat], p).map((f) => f.control)).toEqual([0x01]);
    expect(p.stats.badFrames).toBe(1);
  });

  it('cuts by the length field: data bytes equal to 43 and 54 43 stay data', () => {
    const f = encodeSeeed5359(0x83, 0x0e, hex('43 54 43 43 54'));
    expect(parse([f, EXAMPLES.heartbeat])).toEqual([
      { control: 0x83, command: 0x0e, data: '4354434354' },
      { control: 0x01, command: 0x01, data: '0f' },
    ]);
  });

  it('a stray 53 59 whose length swallows a complete frame does not hold that frame back', () => {
    // Found by the property test below: the radar may send nothing after a fall frame for a minute.
    const p = new Seeed5359Parser();
    expect(parse([hex('53 59'), encodeSeeed5359(0x00, 0x03)], p)).toEqual([{ control: 0x00, command: 0x03, data: '' }]);
    expect(parse([hex('53 59 83 01 00 20'), EXAMPLES.fall])).toEqual([{ control: 0x83, command: 0x01, data: '01' }]);
  });

  it('rejects an over-long length field at once instead of waiting for 65535 bytes', () => {
    const p = new Seeed5359Parser({ reportRejects: true });
    const out: unknown[] = [];
    p.on('data', (m) => out.push(m));
    p.write(Buffer.concat([hex('53 59 83 01 FF FF 01'), EXAMPLES.fall]));
    expect(out).toEqual([{ rejected: expect.stringMatching(/length 65535/) }, expect.objectContaining({ control: 0x83, command: 0x01 })]);
    expect(p.stats.badFrames).toBe(1);
    expect(p.bufferedBytes).toBe(0);
  });

  it('accepts a length up to its bound and rejects one byte more', () => {
    const p = new Seeed5359Parser({ maxDataBytes: 8 });
    expect(parse([encodeSeeed5359(2, 1, Buffer.alloc(8, 0x41)), encodeSeeed5359(2, 1, Buffer.alloc(9, 0x41))], p)).toHaveLength(1);
    expect(p.stats.badFrames).toBe(1);
  });

  it('drops an incomplete frame at the end of the stream', async () => {
    const p = new Seeed5359Parser();
    const out = parse([EXAMPLES.fall.subarray(0, 7)], p);
    p.end();
    await new Promise((r) => p.on('finish', r));
    expect(out).toEqual([]);
    expect(p.bufferedBytes).toBe(0);
  });

  it('property: random bytes in random chunks never throw and never grow the buffer past one frame', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 30 }), fc.integer({ min: 0, max: 64 }), (chunks, max) => {
        const p = new Seeed5359Parser({ maxDataBytes: max, reportRejects: true });
        p.on('data', () => {});
        for (const c of chunks) {
          p.write(Buffer.from(c));
          expect(p.bufferedBytes).toBeLessThan(p.maxFrameBytes);
        }
      }),
    );
  });

  it('property: valid frames embedded in random garbage are all recovered, in order', () => {
    const frame = fc.record({
      control: fc.integer({ min: 0, max: 255 }),
      command: fc.integer({ min: 0, max: 255 }),
      data: fc.uint8Array({ maxLength: 64 }),
    });
    // Garbage biased towards what confuses a resync: header bytes, tail bytes and cut-off frames.
    const garbage = fc.oneof(
      fc.uint8Array({ maxLength: 40 }),
      fc.array(fc.constantFrom(0x53, 0x59, 0x54, 0x43, 0x00, 0x01), { maxLength: 20 }).map((a) => Uint8Array.from(a)),
      frame.chain((f) => {
        const bytes = encodeSeeed5359(f.control, f.command, f.data);
        return fc.integer({ min: 1, max: bytes.length - 1 }).map((n) => bytes.subarray(0, n));
      }),
    );
    fc.assert(
      fc.property(
        fc.array(fc.tuple(garbage, frame), { minLength: 1, maxLength: 8 }),
        fc.integer({ min: 1, max: 50 }),
        (parts, chunkSize) => {
          const stream = Buffer.concat(parts.flatMap(([g, f]) => [Buffer.from(g), encodeSeeed5359(f.control, f.command, f.data)]));
          const chunks: Buffer[] = [];
          for (let i = 0; i < stream.length; i += chunkSize) chunks.push(stream.subarray(i, i + chunkSize));
          const got = parse(chunks);
          const want = parts.map(([, f]) => ({ control: f.control, command: f.command, data: Buffer.from(f.data).toString('hex') }));
          // Garbage may itself hold a valid frame by chance; every embedded frame must be among the output, in order.
          let i = 0;
          for (const g of got) if (i < want.length && JSON.stringify(g) === JSON.stringify(want[i])) i++;
          expect(i).toBe(want.length);
        },
      ),
    );
  });
});

describe('53 59 radar protocol', () => {
  it('the devices.md fall frame raises one fall event for the port device', () => {
    const r = radar();
    r.send(EXAMPLES.fall);
    expect(events(r.sink.records)).toEqual([{ kind: 'event', device: 'radar-203', type: 'fall', data: { source: 'seeed-5359' } }]);
  });

  it('a fall frame with a bad checksum raises nothing, and is counted as rejected', () => {
    const r = radar();
    const bad = Buffer.from(EXAMPLES.fall);
    bad.writeUInt8(bad[7]! ^ 0x01, 7);
    r.send(bad);
    expect(events(r.sink.records)).toEqual([]);
    expect(r.sink.records).toEqual([{ kind: 'rejected', source: entry.path, reason: expect.stringMatching(/checksum/) }]);
  });

  it('every valid frame refreshes last-seen, including heartbeats and codes it does not use', () => {
    const r = radar();
    r.send(EXAMPLES.heartbeat, EXAMPLES.mr60fda1Capture, encodeSeeed5359(0x02, 0xa1, Buffer.from('MR60FDA1')));
    expect(r.sink.records).toEqual([
      { kind: 'seen', device: 'radar-203' },
      { kind: 'seen', device: 'radar-203' },
      { kind: 'seen', device: 'radar-203' },
    ]);
  });

  it('repeated fall reports while fallen raise once; after a no-fall the next fall raises again', () => {
    const r = radar();
    r.send(EXAMPLES.fall, EXAMPLES.fall, EXAMPLES.fall);
    expect(events(r.sink.records)).toHaveLength(1);
    r.send(EXAMPLES.noFall, EXAMPLES.fall);
    expect(events(r.sink.records)).toHaveLength(2);
  });

  it('a fall still reported after the re-raise interval is raised again, marked ongoing', () => {
    let t = 0;
    const r = radar({ now: () => t });
    r.send(EXAMPLES.fall);
    t = 4 * 60_000;
    r.send(EXAMPLES.fall);
    expect(events(r.sink.records)).toHaveLength(1);
    t = 5 * 60_000;
    r.send(EXAMPLES.fall);
    expect(events(r.sink.records).map((e) => e.data)).toEqual([{ source: 'seeed-5359' }, { source: 'seeed-5359', ongoing: true }]);
  });

  it('a fall records what the radar last said about motion and stillness', () => {
    const r = radar();
    r.send(encodeSeeed5359(0x80, 0x02, [0x01]), encodeSeeed5359(0x83, 0x05, [0x01]), EXAMPLES.fall);
    expect(events(r.sink.records)[0]?.data).toEqual({ source: 'seeed-5359', motion: 'stationary', stationary: true });
  });

  it('a query reply (command | 0x80) is understood like the report', () => {
    const r = radar();
    r.send(encodeSeeed5359(0x83, 0x81, [0x01]), encodeSeeed5359(0x85, 0x82, [60]));
    expect(events(r.sink.records).map((e) => e.type)).toEqual(['fall']);
    expect(r.sink.readings()).toEqual([{ metric: 'heart_rate', value: 60 }]);
  });

  it('heart rate 72 and breathing 16 become heart_rate and resp_rate readings', () => {
    const r = radar();
    r.send(EXAMPLES.heartRate72, EXAMPLES.breathing16);
    expect(r.sink.readings()).toEqual([
      { metric: 'heart_rate', value: 72 },
      { metric: 'resp_rate', value: 16 },
    ]);
  });

  it('presence becomes a 0/1 reading and no event; motion alone reads nothing', () => {
    const r = radar();
    r.send(EXAMPLES.present, encodeSeeed5359(0x80, 0x01, [0x00]), EXAMPLES.moving);
    expect(r.sink.readings()).toEqual([
      { metric: 'presence', value: 1 },
      { metric: 'presence', value: 0 },
    ]);
    expect(events(r.sink.records)).toEqual([]);
  });

  it('implausible vital signs (heart rate 0 or 251, breathing 0) are rejected, not read', () => {
    const r = radar();
    r.send(encodeSeeed5359(0x85, 0x02, [0]), encodeSeeed5359(0x85, 0x02, [251]), encodeSeeed5359(0x81, 0x02, [0]));
    expect(r.sink.readings()).toEqual([]);
    expect(r.sink.records.filter((x) => x.kind === 'rejected')).toHaveLength(3);
  });

  it('an unknown fall value or a fall frame without data is rejected and raises nothing', () => {
    const r = radar();
    r.send(encodeSeeed5359(0x83, 0x01, [0x07]), encodeSeeed5359(0x83, 0x01, []));
    expect(events(r.sink.records)).toEqual([]);
    expect(r.sink.records.filter((x) => x.kind === 'rejected')).toHaveLength(2);
  });

  it('MR60BHA1 out of bed after in bed is a bed exit; back in bed is a bed return', () => {
    const r = radar();
    const bed = (v: number) => encodeSeeed5359(0x84, 0x01, [v]);
    r.send(bed(1), bed(1), bed(2), bed(0), bed(0), bed(1));
    expect(events(r.sink.records).map((e) => e.type)).toEqual(['bed_exit', 'bed_return']);
  });

  it('out of bed as the first report is no bed exit, but the return from it is a bed return', () => {
    const r = radar();
    const bed = (v: number) => encodeSeeed5359(0x84, 0x01, [v]);
    r.send(bed(0), bed(0));
    expect(events(r.sink.records)).toEqual([]);
    r.send(bed(1));
    expect(events(r.sink.records).map((e) => e.type)).toEqual(['bed_return']);
  });

  it('MR60BHA1 sleep frames (group 84): a change of sleep state is a sleep_state event, the score a reading', () => {
    // Built byte by byte per devices.md section 1 (checksum = low byte of the sum from 53 on).
    const deep = hex('53 59 84 02 00 01 00 33 54 43');
    const light = hex('53 59 84 02 00 01 01 34 54 43');
    const awake = hex('53 59 84 02 00 01 02 35 54 43');
    const none = hex('53 59 84 02 00 01 03 36 54 43');
    const score80 = hex('53 59 84 06 00 01 50 87 54 43');
    expect(deep).toEqual(encodeSeeed5359(0x84, 0x02, [0]));
    expect(score80).toEqual(encodeSeeed5359(0x84, 0x06, [80]));
    const r = radar();
    r.send(light, light, deep, none, deep, awake, score80);
    expect(events(r.sink.records)).toMatchObject([
      { type: 'sleep_state', data: { state: 'light' } },
      { type: 'sleep_state', data: { state: 'deep' } },
      { type: 'sleep_state', data: { state: 'awake' } },
    ]);
    expect(r.sink.readings()).toEqual([{ metric: 'sleep_score', value: 80 }]);
  });

  it('an unknown sleep state or a score over 100 is rejected', () => {
    const r = radar();
    r.send(encodeSeeed5359(0x84, 0x02, [7]), encodeSeeed5359(0x84, 0x06, [101]));
    expect(events(r.sink.records)).toEqual([]);
    expect(r.sink.readings()).toEqual([]);
    expect(r.sink.records.filter((x) => x.kind === 'rejected')).toHaveLength(2);
  });

  it('two ports never share a radar state', () => {
    const protocol = createSeeed5359Protocol();
    const sink = new RecordingSink();
    const a = { ...entry };
    const b = { ...entry, path: '/dev/ttyTEST1', device: 'radar-204' };
    const fall = { control: 0x83, command: 0x01, data: Buffer.from([1]) };
    protocol.handle(fall, a, sink);
    protocol.handle(fall, b, sink);
    expect(events(sink.records).map((e) => e.device)).toEqual(['radar-203', 'radar-204']);
  });
});

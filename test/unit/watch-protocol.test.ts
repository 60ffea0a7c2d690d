// The watch protocol's framing and content (server/watch/frames.ts, messages.ts) on frames from the
// protocol's documented examples (devices.md "GPS watches"; Traccar's WatchProtocolDecoderTest).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createFrameReader, encodeFrame, type FrameResult } from '../../server/watch/frames.ts';
import { decodeMessage, decodePosition, statusFlags, watchTime } from '../../server/watch/messages.ts';

const SOS = '[3G*8800000015*004F*AL,021226,013000,A,29.563010,N,106.551557,E,0.00,0,300,8,90,80,1,0,00010000,0,0]';
// Documented examples (Traccar's decoder tests), each with its LEN as sent by the device.
const EXAMPLES = [
  '[3G*9031853319*004E*UD2,220322,055105,A,22.761162,N,114.360192,E,0,0,47,14,100,64,0,0,00000008,0,0]',
  '[SG*9059056143*0053*UD,251021,223408,A,41.46500,N,081.53128,W,0.926,000,0,00,70,70,0,50,00000000,0,1,,,,00]',
  '[3G*8308373902*0080*AL,230817,095346,A,47.083950,N,15.4821850,E,7.60,273.8,0.0,4,15,44,0,0,00200010,2,255,232,1,7605,42530,118,7605,58036,119,0,65.8]',
  '[ZJ*014111001332708*0075*0064*AL,040418,052156,A,22.536207,N,113.938673,E,0,0,0,5,100,82,1000,50,00100000,1,255,460,0,9340,3663,35]',
  '[3G*4700609403*0013*bphrt,120,79,73,,,,]',
  '[3G*8800000015*0002*LK]',
];

const reader = () => createFrameReader({ maxContentBytes: 4096 });
const frames = (rs: FrameResult[]) => rs.flatMap((r) => (r.ok ? [r.frame] : []));
const bad = (rs: FrameResult[]) => rs.flatMap((r) => (r.ok ? [] : [r.reason]));

describe('watch frames', () => {
  it('reads every documented example, with or without the index field', () => {
    const out = reader().push(Buffer.from(EXAMPLES.join('')));
    expect(bad(out)).toEqual([]);
    expect(frames(out).map((f) => [f.maker, f.id, f.index, f.keyword])).toEqual([
      ['3G', '9031853319', null, 'UD2'],
      ['SG', '9059056143', null, 'UD'],
      ['3G', '8308373902', null, 'AL'],
      ['ZJ', '014111001332708', '0075', 'AL'],
      ['3G', '4700609403', null, 'bphrt'],
      ['3G', '8800000015', null, 'LK'],
    ]);
  });

  it('survives any split of a stream of frames across reads', () => {
    const stream = Buffer.from(EXAMPLES.join('') + SOS);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: stream.length - 1 }), { maxLength: 12 }), (cuts) => {
        const r = reader();
        const points = [...new Set(cuts)].sort((a, b) => a - b);
        const out: FrameResult[] = [];
        let from = 0;
        for (const c of [...points, stream.length]) {
          out.push(...r.push(stream.subarray(from, c)));
          from = c;
        }
        expect(bad(out)).toEqual([]);
        expect(frames(out)).toHaveLength(EXAMPLES.length + 1);
        expect(r.buffered()).toBe(0);
      }),
    );
  });

  it('refuses garbage, a cut-off frame, an oversized frame and a bad header, and reads the good frame after each', () => {
    const r = createFrameReader({ maxContentBytes: 256 });
    const out = r.push(
      Buffer.from(
        `hello\r\n${SOS}` +
          '[3G*8800000015*004F*AL,0212' + // cut off: the next frame starts before its `]`
          '[3G*8800000015*0002*LK]' +
          '[3G*8800000015*FFFF*' + // 65535 bytes announced: refused at once
          '[XX*bad id!*0002*LK]' +
          '[3G*8800000015*0002*LK]',
      ),
    );
    expect(bad(out)).toEqual(['garbage', 'unterminated', 'too_large', 'header']);
    expect(frames(out).map((f) => f.keyword)).toEqual(['AL', 'LK', 'LK']);
  });

  it('a miscounted LEN (as one documented SG frame has) is used and flagged; escaped bytes are restored', () => {
    const out = frames(reader().push(Buffer.from(`${EXAMPLES[1]}[3G*1*0009*LK]`)));
    expect(out.map((f) => [f.keyword, f.lengthOk])).toEqual([
      ['UD', false],
      ['LK', false],
    ]);
    const escaped = Buffer.concat([Buffer.from('[3G*1*0006*TK,'), Buffer.from([0x7d, 0x03, 0x7d, 0x01, 0x41]), Buffer.from(']')]);
    expect(frames(reader().push(escaped))[0]).toMatchObject({ keyword: 'TK', body: ']}A', lengthOk: true });
  });

  it('holds at most one frame: bytes without a frame start are dropped at once', () => {
    const r = createFrameReader({ maxContentBytes: 256 });
    for (let i = 0; i < 100; i += 1) r.push(Buffer.alloc(10_000, 0x41));
    expect(r.buffered()).toBe(0);
    // A frame that never ends is dropped once it is longer than the largest (escaped) content.
    r.push(Buffer.from('[3G*8800000015*0100*'));
    for (let i = 0; i < 5; i += 1) expect(r.push(Buffer.alloc(100, 0x41))).toEqual([]);
    expect(r.buffered()).toBe(20 + 500);
    expect(bad(r.push(Buffer.alloc(100, 0x41)))).toEqual(['too_large']);
    expect(r.buffered()).toBe(0);
  });

  it('never throws on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
        const r = reader();
        r.push(Buffer.from(bytes));
        expect(r.buffered()).toBeLessThanOrEqual(40 + 2 * 4096);
      }),
    );
  });

  it('answers in the device framing, with its index when it sent one', () => {
    expect(encodeFrame('3G', '8800000015', null, 'LK')).toBe('[3G*8800000015*0002*LK]');
    expect(encodeFrame('ZJ', '014111001332708', '0075', 'AL')).toBe('[ZJ*014111001332708*0075*0002*AL]');
  });
});

describe('watch messages', () => {
  const one = (text: string) => {
    const f = frames(reader().push(Buffer.from(text)))[0];
    if (!f) throw new Error('no frame');
    return decodeMessage(f);
  };

  it('an SOS alarm report is a position with the SOS flag', () => {
    expect(one(SOS)).toEqual({
      kind: 'position',
      alarm: true,
      flags: { sos: true, fall: false, lowBattery: false, removed: false },
      position: {
        at: '2026-12-02T01:30:00.000Z',
        valid: true,
        latitude: 29.56301,
        longitude: 106.551557,
        speedKmh: 0,
        battery: 80,
        status: 0x10000,
      },
    });
  });

  it('west and south are negative; battery comes from its field', () => {
    const m = one(EXAMPLES[1] as string);
    expect(m).toMatchObject({ kind: 'position', alarm: false, position: { latitude: 41.465, longitude: -81.53128, battery: 70 } });
  });

  it('a fall flag (bit 21 or 22) is a fall; other bits are not', () => {
    expect(statusFlags(0x00200000).fall).toBe(true);
    expect(statusFlags(0x00400000).fall).toBe(true);
    expect(statusFlags(0x00200010)).toEqual({ sos: false, fall: true, lowBattery: false, removed: false });
    expect(statusFlags(0x00100000)).toEqual({ sos: false, fall: false, lowBattery: false, removed: true });
  });

  it('LK with battery, vitals, and unusable positions', () => {
    expect(one('[3G*8800000015*000C*LK,50,100,77]')).toEqual({ kind: 'link', battery: 77 });
    expect(one(EXAMPLES[4] as string)).toEqual({ kind: 'vitals', systolic: 120, diastolic: 79, heartRate: 73 });
    // Latitude out of range, then a truncated report: nothing past the decoder sees them.
    expect(one(encodeFrame('3G', '1', null, 'UD,021226,013000,A,99.5,N,106.5,E,0,0,0,8,90,80,1,0,00000000'))).toBeNull();
    expect(one(encodeFrame('3G', '1', null, 'UD,021226,013000,A,29.5'))).toBeNull();
  });

  it('any field values decode to a position in range or to nothing, never a throw', () => {
    const field = fc.oneof(fc.constantFrom('A', 'V', 'N', 'S', 'E', 'W', '', '0', '-1', '999.9', '00010000'), fc.string({ maxLength: 12 }));
    fc.assert(
      fc.property(fc.array(field, { minLength: 0, maxLength: 22 }), (fields) => {
        const p = decodePosition(fields.join(','));
        if (p) {
          expect(Math.abs(p.latitude)).toBeLessThanOrEqual(90);
          expect(Math.abs(p.longitude)).toBeLessThanOrEqual(180);
          expect(p.battery === null || (p.battery >= 0 && p.battery <= 100)).toBe(true);
        }
      }),
    );
  });

  it('a V (no fix) report is not a valid position; a watch date that is not set gives no time', () => {
    const m = one(encodeFrame('3G', '1', null, 'UD,000000,000000,V,0.0,N,0.0,E,0,0,0,0,100,81,0,0,00000000,0,0'));
    expect(m).toMatchObject({ kind: 'position', position: { valid: false, at: null } });
    expect(watchTime('311226', '235959')).toBe('2026-12-31T23:59:59.000Z');
    expect(watchTime('320126', '000000')).toBeNull();
  });
});

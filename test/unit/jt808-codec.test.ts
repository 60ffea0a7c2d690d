// JT/T 808 framing and message bodies, on frames from Traccar's Jt808 test suite (real devices'
// hex) and the standard's escaping rules: escaping round trip, check code, BCD time in GMT+8, the
// 2019 header, the streaming reader's refusals and bounds.
import { describe, expect, it } from 'vitest';
import {
  checkCode,
  createFrameReader,
  decodePhone,
  encodeFrame,
  encodePhone,
  escapeBytes,
  MAX_BODY_BYTES,
  parseFrame,
  unescapeBytes,
} from '../../server/jt808/codec.ts';
import {
  ALARM,
  alarmFlags,
  bcdTime,
  decodeBatch,
  decodeLocation,
  decodeRegistration,
  encodeLocation,
  MSG,
  platformAck,
} from '../../server/jt808/messages.ts';

const hex = (s: string) => Buffer.from(s, 'hex');

// Traccar Jt808ProtocolDecoderTest: a location report from a wearable with battery item 0x06 (62 %).
const LOCATION_WITH_BATTERY = '7e0200001f01207646327900400000000000006002015c7ab706d20469003b0000000025040216362606013e6b7e';
// Traccar: a 2019-edition registration (properties bit 14, version 1, 10-byte phone number).
const REGISTRATION_2019 =
  '7e0100405c010000086649607758216452180000000000000000000000000000004d443330300000000000000000000000000000000000000000000000000038363634393630373735383231363400000000000000000000000000000004000000000000000000000000000000007a7e';
// Traccar: a batch (0x0704) of one position, 2019 edition.
const BATCH_2019 =
  '7e0704402d0100000866496077582164881d0001000028000000000000000701a00192091f2a4700160000000226050916422701040000258230010031010e507e';
// Traccar: an authentication whose phone field is not BCD (an IMEI as a 48-bit number).
const AUTH_IMEI = '7e010200204f07788ef67601824f4459344f544d314d4459774d4441314d444977626d5633553235536457786cba7e';

function readOne(wire: string) {
  const r = createFrameReader().push(hex(wire));
  expect(r).toHaveLength(1);
  const first = r[0];
  if (!first?.ok) throw new Error(`frame refused: ${first?.reason}`);
  return first.message;
}

describe('JT/T 808 framing', () => {
  it('unescapes 7d 02 -> 7e and 7d 01 -> 7d and escapes back (Traccar Jt808FrameDecoderTest)', () => {
    expect(unescapeBytes(hex('307d02087d0155'))).toEqual(hex('307e087d55'));
    expect(escapeBytes(hex('307e087d55'))).toEqual(hex('307d02087d0155'));
    for (let i = 0; i < 50; i += 1) {
      const raw = Buffer.from(Array.from({ length: 40 }, (_, j) => [0x7e, 0x7d, 0x01, 0x02, j][(i * 7 + j * 13) % 5] as number));
      expect(unescapeBytes(escapeBytes(raw))).toEqual(raw);
    }
    expect(unescapeBytes(hex('307d0355'))).toBeNull();
  });

  it('reads a real location report: check code, header, body, battery, time in GMT+8', () => {
    const m = readOne(LOCATION_WITH_BATTERY);
    expect(m.header).toMatchObject({ messageId: MSG.location, version: null, terminal: '12076463279', serial: 0x40 });
    const p = decodeLocation(m.body);
    expect(p).toMatchObject({ valid: true, latitude: 22.837943, longitude: 114.426985, battery: 62, alarm: 0 });
    // 25-04-02 16:36:26 Beijing time.
    expect(p?.at).toBe('2025-04-02T08:36:26.000Z');
  });

  it('refuses a wrong check code, and finds the good frame after it', () => {
    const bad = LOCATION_WITH_BATTERY.replace(/6b7e$/, '6c7e');
    const r = createFrameReader().push(hex(bad + LOCATION_WITH_BATTERY));
    expect(r.map((x) => (x.ok ? 'ok' : x.reason))).toEqual(['checksum', 'ok']);
    expect(checkCode(hex('0200001f'))).toBe(0x02 ^ 0x00 ^ 0x00 ^ 0x1f);
  });

  it('reads a frame split anywhere across reads, and frames joined in one read', () => {
    const wire = hex(LOCATION_WITH_BATTERY);
    for (let cut = 1; cut < wire.length; cut += 1) {
      const reader = createFrameReader();
      const out = [...reader.push(wire.subarray(0, cut)), ...reader.push(wire.subarray(cut))];
      expect(out.map((x) => x.ok)).toEqual([true]);
      expect(reader.buffered()).toBe(0);
    }
    const three = createFrameReader().push(Buffer.concat([wire, wire, wire]));
    expect(three.map((x) => x.ok)).toEqual([true, true, true]);
  });

  it('reads the 2019 header: version byte and a 10-byte phone number', () => {
    const m = readOne(REGISTRATION_2019);
    expect(m.header).toMatchObject({ messageId: MSG.register, version: 1, terminal: '866496077582164', serial: 0x5218 });
    expect(m.body.length).toBe(0x5c);
    expect(decodeRegistration(m.body, true)).toMatchObject({ model: 'MD300', terminalId: '866496077582164' });
  });

  it('reads a batch of positions', () => {
    const m = readOne(BATCH_2019);
    const batch = decodeBatch(m.body);
    expect(batch?.positions).toHaveLength(1);
    expect(batch?.positions[0]).toMatchObject({ valid: true, mileageKm: 960.2 });
    // Status 7: positioned, south (Brisbane): the south bit signs the latitude.
    expect(batch?.positions[0]).toMatchObject({ latitude: -27.263378, longitude: 153.037383, at: '2026-05-09T08:42:27.000Z' });
  });

  it('reads a phone field that is not BCD as the IMEI Traccar derives (number and Luhn digit)', () => {
    const m = readOne(AUTH_IMEI);
    expect(m.header.messageId).toBe(MSG.auth);
    expect(m.header.terminal).toMatch(/^\d{15}$/);
    expect(decodePhone(hex('013912345678'))).toBe('13912345678');
  });

  it('encodes an answer that reads back, escaped where its bytes need it', () => {
    const phoneRaw = encodePhone('13912345678');
    // Serial 0x7e7d: both bytes must be escaped in the answer.
    const wire = encodeFrame(MSG.platformAck, { version: null, phoneRaw }, 1, platformAck(0x7e7d, MSG.location, 0));
    expect(wire.subarray(1, -1).includes(0x7e)).toBe(false);
    const m = readOne(wire.toString('hex'));
    expect(m.header).toMatchObject({ messageId: MSG.platformAck, terminal: '13912345678', serial: 1 });
    expect(m.body).toEqual(hex('7e7d020000'));
    const v2019 = readOne(
      encodeFrame(MSG.heartbeat, { version: 1, phoneRaw: encodePhone('8613912345678', 10) }, 9, Buffer.alloc(0)).toString('hex'),
    );
    expect(v2019.header).toMatchObject({ version: 1, terminal: '8613912345678' });
  });

  it('refuses subpackaged and encrypted messages (header kept), a wrong body length, short frames, bad escapes', () => {
    const make = (props: number, body: Buffer) => {
      const head = Buffer.alloc(4);
      head.writeUInt16BE(MSG.location, 0);
      head.writeUInt16BE(props, 2);
      const raw = Buffer.concat([head, encodePhone('13912345678'), hex('0001'), body]);
      return Buffer.concat([raw, Buffer.from([checkCode(raw)])]);
    };
    const body = encodeLocation({ at: Date.now(), lat: 30, lon: 120 });
    expect(parseFrame(make(body.length, body)).ok).toBe(true);
    const sub = parseFrame(make(body.length | 0x2000, Buffer.concat([hex('00020001'), body])));
    expect(sub).toMatchObject({ ok: false, reason: 'subpackage', header: { terminal: '13912345678' } });
    expect(parseFrame(make(body.length | 0x0400, body))).toMatchObject({ ok: false, reason: 'encrypted' });
    expect(parseFrame(make(body.length + 1, body))).toMatchObject({ ok: false, reason: 'length' });
    expect(parseFrame(hex('0200'))).toMatchObject({ ok: false, reason: 'short' });
    expect(createFrameReader().push(hex('7e02007d057e'))).toEqual([{ ok: false, reason: 'escape' }]);
  });

  it('skips garbage before a frame and bounds what it holds while no frame ends', () => {
    const reader = createFrameReader();
    const r = reader.push(Buffer.concat([Buffer.from('GET / HTTP/1.1\r\n\r\n'), hex(LOCATION_WITH_BATTERY)]));
    expect(r.map((x) => (x.ok ? 'ok' : x.reason))).toEqual(['garbage', 'ok']);
    const flood = createFrameReader();
    const out = [...flood.push(hex('7e')), ...flood.push(Buffer.alloc(3000, 0x41)), ...flood.push(Buffer.alloc(3000, 0x41))];
    expect(out.map((x) => (x.ok ? 'ok' : x.reason))).toContain('too_large');
    expect(flood.buffered()).toBeLessThanOrEqual((17 + 4 + MAX_BODY_BYTES + 1) * 2 + 2);
  });
});

describe('JT/T 808 location bodies', () => {
  it('alarm bit 0 is SOS, bit 29/30 a fall, bit 7 low battery; south and west status bits sign the position', () => {
    expect(alarmFlags(ALARM.sos)).toEqual({ sos: true, fall: false, lowBattery: false });
    expect(alarmFlags(ALARM.fall)).toMatchObject({ sos: false, fall: true });
    expect(alarmFlags(1 << 30).fall).toBe(true);
    expect(alarmFlags(ALARM.lowBattery).lowBattery).toBe(true);
    const at = Date.parse('2026-12-02T15:00:00Z');
    const p = decodeLocation(
      encodeLocation({ at, lat: -33.8688, lon: -70.6693, battery: 55, speedKmh: 4.5, alarm: ALARM.sos, mileageKm: 12.3 }),
    );
    expect(p).toMatchObject({
      latitude: -33.8688,
      longitude: -70.6693,
      battery: 55,
      speedKmh: 4.5,
      mileageKm: 12.3,
      at: '2026-12-02T15:00:00.000Z',
    });
    expect(p?.flags.sos).toBe(true);
    // Not positioned (status bit 1 clear), or at 0,0: not a fix.
    expect(decodeLocation(encodeLocation({ at, lat: 30, lon: 120, valid: false }))?.valid).toBe(false);
    expect(decodeLocation(encodeLocation({ at, lat: 0, lon: 0 }))?.valid).toBe(false);
  });

  it('refuses impossible coordinates and short bodies; an unset or impossible date is null', () => {
    const b = encodeLocation({ at: Date.now(), lat: 30, lon: 120 });
    b.writeUInt32BE(91_000_000, 8);
    expect(decodeLocation(b)).toBeNull();
    expect(decodeLocation(Buffer.alloc(27))).toBeNull();
    expect(bcdTime(hex('000000000000'))).toBeNull();
    expect(bcdTime(hex('251332120000'))).toBeNull();
    expect(bcdTime(hex('2a0101000000'))).toBeNull();
  });

  it('a malformed item list keeps the basic fields', () => {
    const b = Buffer.concat([encodeLocation({ at: Date.now(), lat: 30, lon: 120 }), hex('0604ff')]);
    expect(decodeLocation(b)).toMatchObject({ latitude: 30, battery: null });
  });
});

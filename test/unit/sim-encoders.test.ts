// The simulators' wire encoders against every example frame in devices.md, byte for byte.
import { describe, expect, it } from 'vitest';
import { createWireDevice } from '../../simulators/encoders/device.ts';
import { ndjsonEvent, ndjsonReading } from '../../simulators/encoders/ndjson.ts';
import { encode5359, seeed5359 } from '../../simulators/encoders/seeed5359.ts';
import { encodeSof, SOF_TYPES, seeedSof } from '../../simulators/encoders/seeedSof.ts';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('53 59 encoder (devices.md section 1)', () => {
  it.each([
    ['heartbeat', seeed5359.heartbeat(), '53 59 01 01 00 01 0F BE 54 43'],
    ['fall', seeed5359.fall(true), '53 59 83 01 00 01 01 32 54 43'],
    ['no fall', seeed5359.fall(false), '53 59 83 01 00 01 00 31 54 43'],
    ['someone present', seeed5359.presence(true), '53 59 80 01 00 01 01 2F 54 43'],
    ['moving', seeed5359.motion(2), '53 59 80 02 00 01 02 31 54 43'],
    ['heart rate 72', seeed5359.heartRate(72), '53 59 85 02 00 01 48 7C 54 43'],
    ['breathing 16', seeed5359.breathingRate(16), '53 59 81 02 00 01 10 40 54 43'],
    [
      'the MR60FDA1 forum capture',
      encode5359(0x83, 0x0e, [0x00, 0x02, 0x00, 0x00, 0x00, 0x64]),
      '53 59 83 0E 00 06 00 02 00 00 00 64 A9 54 43',
    ],
  ])('%s is encoded byte for byte', (_name, frame, expected) => {
    expect(frame.toString('hex')).toBe(hex(expected).toString('hex'));
  });

  it('the checksum keeps only the low 8 bits and data bytes equal to the tail are kept as data', () => {
    const f = encode5359(0xff, 0xff, [0x54, 0x43, 0xff]);
    expect(f.readUInt16BE(4)).toBe(3);
    const sum = [...f.subarray(0, 9)].reduce((a, b) => a + b, 0);
    expect(f[9]).toBe(sum & 0xff);
    expect([...f.subarray(-2)]).toEqual([0x54, 0x43]);
  });
});

describe('01-SOF encoder (devices.md section 2)', () => {
  it.each([
    ['fall', seeedSof.fall(true, 1), '01 00 01 00 01 0E 02 F2 01 FE'],
    ['no fall', seeedSof.fall(false, 1), '01 00 01 00 01 0E 02 F2 00 FF'],
    ['present', seeedSof.presence(true, 2), '01 00 02 00 02 0F 09 F8 01 00 FE'],
    ['heart rate 72.0', seeedSof.heartRate(72, 3), '01 00 03 00 04 0A 15 E6 00 00 90 42 2D'],
    ['breathing 16.0', seeedSof.breathingRate(16, 4), '01 00 04 00 04 0A 14 E0 00 00 80 41 3E'],
    ['get parameters', seeedSof.getParameters(0), '01 00 00 00 00 0E 06 F6'],
  ])('%s is encoded byte for byte', (_name, frame, expected) => {
    expect(frame.toString('hex')).toBe(hex(expected).toString('hex'));
  });

  it('a frame without data has no data checksum', () => {
    expect(encodeSof(SOF_TYPES.getParameters, [], 7)).toHaveLength(8);
  });
});

describe('NDJSON encoder (DESIGN.md 3.7)', () => {
  it('encodes the documented event and reading lines exactly', () => {
    expect(ndjsonEvent('pad-203a', 'bed_exit')).toBe('{"device":"pad-203a","type":"bed_exit"}\n');
    expect(ndjsonReading('band-203a', 'heart_rate', 72)).toBe('{"device":"band-203a","metric":"heart_rate","value":72}\n');
    expect(ndjsonEvent('btn-201', 'call')).toBe('{"device":"btn-201","type":"call"}\n');
  });

  it('carries data and a device timestamp when given', () => {
    const line = ndjsonEvent('pad-1', 'no_motion', { minutes: 300 }, '2026-11-22T23:00:00.000Z');
    expect(JSON.parse(line)).toEqual({ device: 'pad-1', type: 'no_motion', data: { minutes: 300 }, ts: '2026-11-22T23:00:00.000Z' });
    expect(line.endsWith('\n')).toBe(true);
  });
});

describe('wire devices', () => {
  it('a 53 59 radar reports bed exit as the MR60BHA1 out-of-bed frame', () => {
    expect(createWireDevice('seeed-5359', 'radar-1').event('bed_exit')[0]?.toString('hex')).toBe(
      hex('53 59 84 01 00 01 00 32 54 43').toString('hex'),
    );
  });

  it('a 53 59 radar reports sleep as the MR60BHA1 sleep-state and score frames; a mattress as NDJSON', () => {
    const radar = createWireDevice('seeed-5359', 'radar-203');
    expect(radar.event('sleep_state', { data: { state: 'deep' } })).toEqual([hex('53 59 84 02 00 01 00 33 54 43')]);
    expect(radar.reading('sleep_score', 80)).toEqual([hex('53 59 84 06 00 01 50 87 54 43')]);
    expect(() => radar.event('sleep_state', { data: { state: 'dreaming' } })).toThrow(/deep, light or awake/);
    const mattress = createWireDevice('ndjson', 'mattress-203');
    expect(mattress.event('sleep_state', { data: { state: 'light' } }).toString()).toContain(
      '"type":"sleep_state","data":{"state":"light"}',
    );
  });

  it('a radar refuses what it has no frame for, with a message naming the protocol', () => {
    expect(() => createWireDevice('seeed-sof', 'radar-1').event('call')).toThrow(/seeed-sof.*call/);
    expect(() => createWireDevice('seeed-5359', 'radar-1').event('fall', { device: 'radar-2' })).toThrow(/only its own device/);
  });

  it('SOF frame ids count up per device', () => {
    const d = createWireDevice('seeed-sof', 'radar-1');
    const [a, b] = d.vitals(70, 15);
    expect(a?.readUInt16BE(1)).toBe(1);
    expect(b?.readUInt16BE(1)).toBe(2);
  });
});

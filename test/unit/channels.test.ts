// The pure parts of the channels: the words of a message (one link, an SMS of at most two parts),
// SMS splitting with concatenation headers, delivery receipt parsing, and the channel settings.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Alarm } from '../../protocol/index.ts';
import { loadChannelsConfig } from '../../server/channels/config.ts';
import { composeMessage, SMS_MAX_CHARS } from '../../server/channels/message.ts';
import { parseDeliveryReceipt, splitSms } from '../../server/channels/smpp.ts';

const alarm = {
  id: 'alm-1',
  type: 'fall',
  priority: 'high',
  state: 'active',
  siteId: 's',
  gatewayId: 'g',
  deviceId: 'd',
  residentId: 'r',
  room: '203',
  raisedAt: '2026-11-23T02:05:00.000Z',
  escalationLevel: 1,
  count: 1,
} as Alarm;
const link = { url: `https://care.example.org/r/${'A'.repeat(32)}`, token: 'A'.repeat(32) };

describe('message words', () => {
  it('says what, who, where and when in Chinese, with exactly one link, in at most two SMS parts', () => {
    const m = composeMessage(alarm, { residentName: '王秀英', address: '重庆市渝中区解放碑街道民生路 8 号 3 单元', room: '203' }, link);
    expect(m.title).toBe('【跌倒】王秀英');
    expect(m.sms).toContain('王秀英');
    expect(m.sms).toContain('10:05'); // Asia/Shanghai
    expect(m.sms.split(link.url)).toHaveLength(2);
    expect(m.text).not.toContain(link.url);
    expect(splitSms(m.sms, 1).length).toBeLessThanOrEqual(2);
  });

  it('in English by setting', () => {
    const m = composeMessage(alarm, { residentName: 'Mary', siteName: 'Oak House' }, link, 'en');
    expect(m.title).toBe('Fall: Mary');
    expect(m.sms).toMatch(/^Fall: Mary Oak House 203 10:05 respond: https/);
  });

  it('whatever the names and places, the link is whole and the SMS fits two parts', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), fc.string({ maxLength: 300 }), (name, address) => {
        const m = composeMessage(alarm, { residentName: name || null, address: address || null }, link);
        expect(m.sms.endsWith(link.url)).toBe(true);
        expect(m.sms.length).toBeLessThanOrEqual(SMS_MAX_CHARS + 2);
      }),
      { numRuns: 200 },
    );
  });
});

describe('SMS parts', () => {
  it('one UCS-2 part up to 70 characters, no UDH', () => {
    expect(splitSms('跌'.repeat(70), 7)).toEqual([{ dataCoding: 8, udh: null, text: '跌'.repeat(70) }]);
  });
  it('longer: parts of 67 with a concatenation UDH (reference, count, number)', () => {
    const parts = splitSms('跌'.repeat(140), 9);
    expect(parts.map((p) => p.text.length)).toEqual([67, 67, 6]);
    expect(parts.map((p) => [...(p.udh as Buffer)])).toEqual([
      [5, 0, 3, 9, 3, 1],
      [5, 0, 3, 9, 3, 2],
      [5, 0, 3, 9, 3, 3],
    ]);
  });
  it('plain ASCII goes in the default alphabet, 160 a part', () => {
    expect(splitSms('a'.repeat(160), 1)).toHaveLength(1);
    expect(splitSms('a'.repeat(161), 1).map((p) => [p.dataCoding, p.text.length])).toEqual([
      [0, 153],
      [0, 8],
    ]);
  });
  it('never cuts a character outside the BMP in half', () => {
    const parts = splitSms(`${'跌'.repeat(66)}😀xxxxx`, 1);
    expect(parts[0]?.text.endsWith('跌')).toBe(true);
    expect(parts[1]?.text.startsWith('😀')).toBe(true);
  });
});

describe('delivery receipts', () => {
  const pdu = (fields: Record<string, unknown>) => ({ command: 'deliver_sm', command_status: 0, sequence_number: 1, ...fields }) as never;
  it('reads the Appendix B text', () => {
    expect(
      parseDeliveryReceipt(
        pdu({
          esm_class: 4,
          short_message: { message: 'id:abc123 sub:001 dlvrd:001 submit date:2611230200 done date:2611230201 stat:DELIVRD err:000 text:' },
        }),
      ),
    ).toEqual({ messageId: 'abc123', delivered: true, stat: 'DELIVRD' });
    expect(parseDeliveryReceipt(pdu({ esm_class: 4, short_message: { message: 'id:x stat:UNDELIV err:001' } }))).toMatchObject({
      delivered: false,
      error: 'SMSC: UNDELIV err:001',
    });
  });
  it('reads the TLVs', () => {
    expect(
      parseDeliveryReceipt(pdu({ esm_class: 4, receipted_message_id: 'm9', message_state: 2, short_message: { message: '' } })),
    ).toMatchObject({
      messageId: 'm9',
      delivered: true,
    });
  });
  it('ignores a mobile-originated message and an intermediate state', () => {
    expect(parseDeliveryReceipt(pdu({ esm_class: 0, short_message: { message: 'id:x stat:DELIVRD' } }))).toBeNull();
    expect(parseDeliveryReceipt(pdu({ esm_class: 4, short_message: { message: 'id:x stat:ENROUTE' } }))).toBeNull();
  });
});

describe('channel settings', () => {
  it('defaults: Chinese, generated VAPID keys, no SMS', () => {
    expect(loadChannelsConfig({})).toEqual({
      language: 'zh-CN',
      vapid: null,
      vapidSubject: 'mailto:admin@localhost',
      pushAllowHttp: false,
      sms: null,
    });
  });
  it('reads an SMPP URL', () => {
    const c = loadChannelsConfig({
      CARE_SMS_PROVIDER: 'smpp',
      CARE_SMPP_URL: 'smpp://care:p%40ss@smsc.example.org:2775',
      CARE_SMS_SENDER: '10690000',
    });
    expect(c.sms).toMatchObject({
      provider: 'smpp',
      systemId: 'care',
      password: 'p@ss',
      host: 'smsc.example.org',
      port: 2775,
      sender: '10690000',
    });
  });
  it('names the bad key and never repeats a secret', () => {
    expect(() => loadChannelsConfig({ CARE_SMS_PROVIDER: 'smpp' })).toThrow(/^CARE_SMPP_URL: required/);
    expect(() =>
      loadChannelsConfig({ CARE_SMS_PROVIDER: 'aliyun', CARE_SMS_TEMPLATE: 'SMS_1', CARE_SMS_SIGN: 's', CARE_SMS_ACCESS_KEY_ID: 'id' }),
    ).toThrow(/^CARE_SMS_ACCESS_KEY_SECRET: required/);
    expect(() => loadChannelsConfig({ CARE_SMS_PROVIDER: 'carrier-pigeon' })).toThrow(/^CARE_SMS_PROVIDER/);
    expect(() => loadChannelsConfig({ CARE_VAPID_PUBLIC_KEY: 'B'.repeat(87) })).toThrow(/^CARE_VAPID_PRIVATE_KEY/);
    try {
      loadChannelsConfig({ CARE_SMS_PROVIDER: 'smpp', CARE_SMPP_URL: 'http://care:topsecret@x' });
    } catch (err) {
      expect((err as Error).message).toMatch(/^CARE_SMPP_URL/);
      expect((err as Error).message).not.toContain('topsecret');
    }
    expect(() => loadChannelsConfig({ CARE_SMPP_URL: 'smpp://a:b@c:2775' })).toThrow(/CARE_SMPP_URL: set, but CARE_SMS_PROVIDER is not/);
  });
});

// What the person channel's tests share (test/unit/person-*.test.ts): an SMS sender that records
// whom it texted (a recording stand-in: the real SMSC is exercised in test/e2e/channels-smpp), and
// one message as the notifier hands it over.
import type { SmsSender } from '../../server/channels/sms.ts';

export function recordingSms(calls: string[]): SmsSender {
  return {
    send: async (to) => {
      calls.push(`sms:${to}`);
      return { ok: true, state: 'sent', providerId: 'smpp:1' };
    },
    start() {},
    async stop() {},
  };
}

export const PERSON_MESSAGE = JSON.stringify({
  alarmId: 'A1',
  title: '跌倒',
  text: '王奶奶 跌倒',
  sms: '王奶奶 跌倒 http://x/r/t',
  url: 'http://x/r/t',
  token: 't',
  vars: { what: '跌倒', who: '王奶奶', where: '家', when: '10:00' },
});

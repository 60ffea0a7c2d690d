// Every key in both languages, the same placeholders in both, and every alarm type, outcome,
// device kind and metric of the protocol has its words.
import { describe, expect, it } from 'vitest';
import { LANGS, MESSAGES, type MessageKey, parseLang, placeholders, translate, translateDynamic } from '../../dashboard/src/lib/i18n.ts';
import { ALARM_STATES, ALARM_TYPES, DEVICE_KINDS, METRICS, PRIORITIES } from '../../protocol/schemas.ts';
import { OUTCOMES } from '../../server/http/alarms.ts';

describe('dashboard i18n', () => {
  const enKeys = Object.keys(MESSAGES.en).sort();

  it('has every key in both languages, none empty', () => {
    for (const lang of LANGS) {
      expect(Object.keys(MESSAGES[lang]).sort()).toEqual(enKeys);
      for (const k of enKeys) expect(MESSAGES[lang][k as MessageKey].trim()).not.toBe('');
    }
  });

  it('uses the same placeholders in both languages', () => {
    for (const k of enKeys as MessageKey[]) expect(placeholders(MESSAGES['zh-CN'][k])).toEqual(placeholders(MESSAGES.en[k]));
  });

  it('has words for every alarm type, priority, state, outcome, device kind and metric', () => {
    const needed = [
      ...ALARM_TYPES.map((x) => `alarm.${x}`),
      ...PRIORITIES.map((x) => `priority.${x}`),
      ...ALARM_STATES.map((x) => `state.${x}`),
      ...OUTCOMES.map((x) => `outcome.${x}`),
      ...DEVICE_KINDS.map((x) => `kind.${x}`),
      ...METRICS.map((x) => `metric.${x}`),
    ];
    for (const k of needed) expect(enKeys).toContain(k);
  });

  it('is Chinese by default and uses the glossary words', () => {
    expect(parseLang(null)).toBe('zh-CN');
    expect(parseLang('fr')).toBe('zh-CN');
    expect(parseLang('en')).toBe('en');
    expect(translate('zh-CN', 'alarm.call')).toBe('紧急呼叫');
    expect(translate('zh-CN', 'alarm.fall')).toBe('跌倒');
    expect(translate('zh-CN', 'alarm.bed_exit')).toBe('离床');
    expect(translate('zh-CN', 'conn.reconnecting')).toBe('正在重新连接：报警可能延迟');
    expect(translate('zh-CN', 'outcome.false_alarm')).toBe('误报');
  });

  it('fills placeholders and leaves unknown ones visible', () => {
    expect(translate('en', 'card.room', { room: '203' })).toBe('Room 203');
    expect(translate('en', 'card.room')).toBe('Room {room}');
    expect(translateDynamic('en', 'alarm.nope', 'nope')).toBe('nope');
    expect(translateDynamic('zh-CN', 'alarm.wander', 'x')).toBe('走失');
  });
});

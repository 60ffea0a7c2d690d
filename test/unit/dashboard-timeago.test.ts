// "How long ago" labels in both languages.
import { describe, expect, it } from 'vitest';
import { formatAgo, formatElapsed } from '../../dashboard/src/lib/timeago.ts';

const S = 1000;
const M = 60 * S;
const H = 60 * M;

describe('dashboard how-long-ago formatting', () => {
  it('reads "just now" for the first seconds and for clock skew', () => {
    expect(formatElapsed(3 * S, 'en')).toBe('just now');
    expect(formatElapsed(-5 * S, 'zh-CN')).toBe('刚刚');
  });

  it('counts seconds in the first minute, then minutes, hours and days', () => {
    expect(formatElapsed(42 * S, 'en')).toBe('42 s ago');
    expect(formatElapsed(42 * S, 'zh-CN')).toBe('42 秒前');
    expect(formatElapsed(5 * M + 59 * S, 'en')).toBe('5 min ago');
    expect(formatElapsed(5 * M, 'zh-CN')).toBe('5 分钟前');
    expect(formatElapsed(2 * H + 7 * M, 'en')).toBe('2 h 7 min ago');
    expect(formatElapsed(2 * H + 7 * M, 'zh-CN')).toBe('2 小时 7 分钟前');
    expect(formatElapsed(50 * H, 'en')).toBe('2 d ago');
    expect(formatElapsed(50 * H, 'zh-CN')).toBe('2 天前');
  });

  it('measures from an ISO time to now', () => {
    expect(formatAgo('2026-01-01T08:00:00.000Z', Date.parse('2026-01-01T08:03:00.000Z'), 'en')).toBe('3 min ago');
  });

  it('an unparseable time does not show NaN', () => {
    expect(formatAgo('not a time', Date.now(), 'en')).toBe('just now');
  });
});

import { describe, expect, test } from 'vitest';
import { formatAge } from './age.ts';

const now = new Date('2025-01-02T12:00:00.000Z');
const before = (ms: number) => new Date(now.getTime() - ms).toISOString();

describe('formatAge', () => {
  test.each([
    [0, 'just now'],
    [999, 'just now'],
    [12_000, '12 s ago'],
    [59_999, '59 s ago'],
    [4 * 60_000 + 30_000, '4 m ago'],
    [3 * 3_600_000 + 59 * 60_000, '3 h ago'],
    [2 * 86_400_000 + 5 * 3_600_000, '2 d ago'],
  ])('%i ms ago reads %s', (ms, text) => {
    expect(formatAge(before(ms), now)).toBe(text);
  });

  test('a time slightly in the future (clock skew) is just now', () => {
    expect(formatAge(before(-3000), now)).toBe('just now');
  });

  test('no time or an unreadable one is a dash', () => {
    expect(formatAge(null, now)).toBe('-');
    expect(formatAge('yesterday', now)).toBe('-');
  });
});

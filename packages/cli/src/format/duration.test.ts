import { describe, expect, test } from 'vitest';
import { formatDuration } from './duration.ts';

describe('formatDuration', () => {
  test.each([
    [0, '0 ms'],
    [450, '450 ms'],
    [999, '999 ms'],
    [1000, '1.0 s'],
    [3240, '3.2 s'],
    [59_940, '59.9 s'],
    [59_960, '1 m 0 s'],
    [250_000, '4 m 10 s'],
    [3_599_400, '59 m 59 s'],
    [3_600_000, '1 h 0 m'],
    [7_500_000, '2 h 5 m'],
  ])('%i ms reads %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  test('an unknown or impossible duration is a dash', () => {
    expect(formatDuration(null)).toBe('-');
    expect(formatDuration(undefined)).toBe('-');
    expect(formatDuration(-5)).toBe('-');
    expect(formatDuration(Number.NaN)).toBe('-');
  });
});

import { describe, expect, test } from 'vitest';
import { formatSize, InvalidSizeError, parseSize } from './size.ts';

describe('parseSize', () => {
  test.each([
    ['50GiB', 50 * 2 ** 30],
    ['512MB', 512e6],
    ['1.5 TiB', 1.5 * 2 ** 40],
    ['1048576', 2 ** 20],
    ['10kib', 10 * 1024],
  ])('%s is %d bytes', (text, bytes) => {
    expect(parseSize(text)).toBe(bytes);
  });

  test.each(['', 'GiB', '5XB', '-1GiB', '1e9'])('"%s" is refused with the units it takes', (text) => {
    expect(() => parseSize(text)).toThrow(InvalidSizeError);
    expect(() => parseSize(text)).toThrow(/GiB/);
  });

  test('nothing is not a size', () => {
    expect(() => parseSize('0')).toThrow('"0" must be more than 0 bytes.');
  });
});

test('formatSize rounds to one decimal in binary units', () => {
  expect(formatSize(512)).toBe('512 B');
  expect(formatSize(1.5 * 2 ** 30)).toBe('1.5 GiB');
  expect(formatSize(100 * 2 ** 20)).toBe('100 MiB');
});

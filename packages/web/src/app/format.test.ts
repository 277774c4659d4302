import { describe, expect, it } from 'vitest';
import { authorName, formatAge, formatBytes, formatDuration, formatPercent } from './format.ts';

describe('formats', () => {
  it('durations', () => {
    expect(formatDuration(null)).toBe('–');
    expect(formatDuration(450)).toBe('450 ms');
    expect(formatDuration(1500)).toBe('1.5 s');
    expect(formatDuration(184_000)).toBe('3 min 4 s');
    expect(formatDuration(7_500_000)).toBe('2 h 5 min');
  });
  it('ages', () => {
    const now = Date.parse('2026-01-01T12:00:00Z');
    expect(formatAge('2026-01-01T11:59:48Z', now)).toBe('12 s ago');
    expect(formatAge('2026-01-01T09:00:00Z', now)).toBe('3 h ago');
  });
  it('sizes, ratios and authors', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(3 * 1024 * 1024)).toBe('3.0 MiB');
    expect(formatPercent(0.256)).toBe('26 %');
    expect(formatPercent(null)).toBe('–');
    expect(authorName('Ada Lovelace <ada@example.org>')).toBe('Ada Lovelace');
  });
});

import { describe, expect, test } from 'vitest';
import { formatBuilderStats, formatRatio, formatTrend } from './stats-tables.ts';
import { plainStyle } from './style.ts';

const window = { from: '2026-01-05T00:00:00.000Z', to: '2026-01-12T00:00:00.000Z' };

describe('stats tables', () => {
  test('trends say slower with a plus, faster with a minus, and nothing without two halves', () => {
    expect(formatTrend({ changePercent: 12.5, buckets: [] }, plainStyle)).toBe('+12.5 %');
    expect(formatTrend({ changePercent: -8, buckets: [] }, plainStyle)).toBe('-8 %');
    expect(formatTrend({ changePercent: null, buckets: [] }, plainStyle)).toBe('-');
    expect(formatRatio(0.3333)).toBe('33.3 %');
  });

  test('builders, slowest first, with durations, trend and rates', () => {
    const table = formatBuilderStats(
      {
        window,
        builders: [
          {
            builder: 'build',
            runs: 4,
            duration: { count: 3, medianMs: 2_100_000, p90Ms: 2_400_000, meanMs: 2_000_000, maxMs: 2_400_000 },
            trend: { changePercent: 10, buckets: [] },
            counts: { success: 2, failure: 1, exception: 1 },
            failureRate: 0.25,
            exceptionRate: 0.25,
          },
        ],
      },
      plainStyle,
    );
    expect(table.split('\n')).toEqual([
      'BUILDER  RUNS  MEDIAN    P90       TREND  FAILURES  EXCEPTIONS',
      'build    4     35 m 0 s  40 m 0 s  +10 %  25.0 %    25.0 %',
    ]);
  });
});

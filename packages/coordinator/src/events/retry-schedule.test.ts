import { describe, expect, test } from 'vitest';
import { DEFAULT_RETRY } from '../config/events-config.ts';
import { nextAttemptAt } from './retry-schedule.ts';

const HOUR = 3_600_000;

describe('nextAttemptAt', () => {
  test('doubles the wait after each failure, from the first delay', () => {
    const policy = { firstMs: 1000, maxMs: 60_000, giveUpMs: HOUR };
    const waits = [1, 2, 3, 4, 5].map((attempts) => (nextAttemptAt(policy, 0, attempts, 0) as number) - 0);
    expect(waits).toEqual([1000, 2000, 4000, 8000, 16_000]);
  });

  test('never waits longer than the maximum', () => {
    const policy = { firstMs: 1000, maxMs: 60_000, giveUpMs: HOUR };
    expect(nextAttemptAt(policy, 0, 30, 10_000)).toBe(70_000);
  });

  test('makes a last attempt at the deadline, then gives up', () => {
    const policy = { firstMs: 1000, maxMs: 10 * HOUR, giveUpMs: HOUR };
    expect(nextAttemptAt(policy, 0, 12, HOUR - 5000)).toBe(HOUR);
    expect(nextAttemptAt(policy, 0, 13, HOUR)).toBeNull();
  });

  test('by default keeps trying for 24 hours with waits of at most an hour', () => {
    let now = 0;
    let attempts = 0;
    const waits: number[] = [];
    for (;;) {
      attempts += 1;
      const next = nextAttemptAt(DEFAULT_RETRY, 0, attempts, now);
      if (next === null) break;
      waits.push(next - now);
      now = next;
    }
    expect(now).toBe(24 * HOUR);
    expect(Math.max(...waits)).toBe(HOUR);
    expect(waits[0]).toBe(5000);
  });
});

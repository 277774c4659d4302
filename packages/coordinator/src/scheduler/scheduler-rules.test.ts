import { describe, expect, it } from 'vitest';
import { median, nextSpeed } from './learned-speed.ts';
import { effectivePriority, queueRank } from './queue-order.ts';
import { MINUTE, SMART_POLICY } from './testing.ts';
import { explainWaiting, type PoolWorkerState } from './waiting-reason.ts';
import { benchDurationMs } from './worker-health.ts';

describe('learned speed', () => {
  it('is the weighted average of durations relative to the builder median', () => {
    expect(median([])).toBeNull();
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(nextSpeed(null, 30, 60)).toBe(0.5);
    expect(nextSpeed(0.5, 60, 60)).toBeCloseTo(0.65);
    expect(nextSpeed(0.8, 60, null)).toBe(0.8);
    expect(nextSpeed(null, 6000, 1)).toBe(10);
  });
});

describe('worker health', () => {
  it('benches for 10 s doubling up to an hour', () => {
    expect([0, 1, 2, 3, 9, 10, 40].map(benchDurationMs)).toEqual([
      0, 10_000, 20_000, 40_000, 2_560_000, 3_600_000, 3_600_000,
    ]);
  });
});

describe('queue rank', () => {
  it('orders by effective priority at every moment without recomputation', () => {
    const a = { priority: 5, pendingSince: 0 };
    const b = { priority: 3, pendingSince: 15 * MINUTE };
    expect(queueRank(b, SMART_POLICY)).toBeLessThan(queueRank(a, SMART_POLICY));
    const c = { priority: 3, pendingSince: 25 * MINUTE };
    expect(queueRank(a, SMART_POLICY)).toBeLessThan(queueRank(c, SMART_POLICY));
    expect(effectivePriority(a, 10 * MINUTE, 25 * MINUTE)).toBe(2.5);
  });
});

describe('why a job waits', () => {
  const w = (name: string, state: PoolWorkerState['state'], tags = {}): PoolWorkerState => ({
    name,
    tags,
    state,
    benchedUntil: state === 'benched' ? Date.UTC(2030, 0, 1) : null,
  });
  const job = { pool: 'linux', requiredTags: { os: 'debian' } };

  it('names the cause', () => {
    expect(explainWaiting(job, [], 0)).toBe('no worker of pool linux is online');
    expect(explainWaiting(job, [w('a', 'idle', { os: 'mac' })], 2)).toBe(
      'none of the 1 online worker(s) of pool linux has tags os=debian',
    );
    expect(explainWaiting(job, [w('a', 'busy', { os: 'debian' }), w('b', 'busy', { os: 'debian' })], 3)).toBe(
      'all 2 worker(s) of pool linux that can run it are busy; 3 job(s) ahead of it in the queue',
    );
    expect(explainWaiting(job, [w('a', 'busy', { os: 'debian' }), w('b', 'benched', { os: 'debian' })], 0)).toContain(
      '1 benched after exceptions (the first returns at 2030-01-01T00:00:00.000Z)',
    );
    expect(explainWaiting(job, [w('a', 'idle', { os: 'debian' })], 4)).toBe("behind 4 job(s) in pool linux's queue");
  });
});

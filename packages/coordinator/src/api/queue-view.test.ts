import type { Job } from '@switchyard/protocol';
import { describe, expect, it } from 'vitest';
import { everyRule } from '../scheduler/live-policy.ts';
import { queueByPool } from './queue-view.ts';

const MINUTE = 60_000;
const T0 = Date.parse('2026-01-01T00:00:00Z');

function pending(id: number, pool: string, priority: number, minutesAgo: number): Job {
  return {
    id,
    pushId: 1,
    repo: 'demo',
    branch: 'main',
    revision: 'abcdef1',
    author: 'Ada',
    builder: `b${id}`,
    pool,
    state: 'pending',
    reason: null,
    attemptCount: 0,
    maxAttempts: 3,
    dependsOn: [],
    retriggeredFrom: null,
    priority,
    exact: false,
    coalescedInto: null,
    worker: null,
    createdAt: new Date(T0 - minutesAgo * MINUTE).toISOString(),
    pendingAt: new Date(T0 - minutesAgo * MINUTE).toISOString(),
    startedAt: null,
    finishedAt: null,
    durationMs: null,
  };
}

describe('queueByPool', () => {
  it('orders each pool by aged priority, oldest first among equals', () => {
    const policy = everyRule({ agingMs: 10 * MINUTE, fitBand: 0.5 });
    const view = queueByPool(
      [pending(1, 'linux', 4, 1), pending(2, 'linux', 2, 0), pending(3, 'mac', 4, 5), pending(4, 'linux', 4, 30)],
      policy,
      T0,
    );
    expect(view.pools.map((p) => p.pool)).toEqual(['linux', 'mac']);
    const linux = view.pools[0]?.jobs ?? [];
    // Job 4 has waited 30 minutes: three levels of aging put it ahead of the fresh priority-2 job.
    expect(linux.map((q) => [q.job.id, q.position])).toEqual([
      [4, 1],
      [2, 2],
      [1, 3],
    ]);
    expect(linux[0]?.effectivePriority).toBe(1);
  });
});

import type { Job, QueueView } from '@switchyard/protocol';
import type { SchedulingPolicy } from '../scheduler/model.ts';
import { effectivePriority, queueRank } from '../scheduler/queue-order.ts';

/**
 * Pending jobs grouped by pool, each pool in the order the scheduler takes them (its queue rank,
 * then id, as the store orders them), with 1-based positions and aged priorities at `now`.
 */
export function queueByPool(pending: readonly Job[], policy: SchedulingPolicy, now: number): QueueView {
  const pools = new Map<string, Array<{ job: Job; rank: number; pendingSince: number }>>();
  for (const job of pending) {
    if (job.state !== 'pending' || job.pendingAt === null) continue;
    const pendingSince = Date.parse(job.pendingAt);
    const rank = queueRank({ priority: job.priority, pendingSince }, policy);
    const queue = pools.get(job.pool) ?? [];
    queue.push({ job, rank, pendingSince });
    pools.set(job.pool, queue);
  }
  return {
    pools: [...pools.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([pool, queue]) => ({
        pool,
        jobs: queue
          .sort((a, b) => a.rank - b.rank || a.job.id - b.job.id)
          .map(({ job, pendingSince }, index) => ({
            job,
            position: index + 1,
            effectivePriority: effectivePriority({ priority: job.priority, pendingSince }, policy.agingMs, now),
          })),
      })),
  };
}

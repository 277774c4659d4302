import type { SchedulableJob, SchedulingPolicy } from './model.ts';

/** Without aging, one priority level outweighs any wait: about three centuries in ms. */
const PRIORITY_WITHOUT_AGING_MS = 1e13;

/**
 * A job's place in its pool's queue: lower goes first. With aging, waiting `agingMs` is worth
 * one priority level, so `priority × agingMs + pendingSince` orders jobs by their effective
 * priority at any moment — the order never needs recomputing as time passes, and a database
 * index on it serves the queue. A job that waits long enough ends up ahead of every job that
 * arrives later, whatever its priority: low-priority work is delayed, never starved.
 */
export function queueRank(job: Pick<SchedulableJob, 'priority' | 'pendingSince'>, policy: SchedulingPolicy): number {
  if (!policy.priorities) return job.pendingSince;
  return job.priority * priorityLevelMs(policy.agingMs) + job.pendingSince;
}

/** What one priority level is worth in rank: the aging time, or (without aging) any wait. */
export function priorityLevelMs(agingMs: number): number {
  return agingMs > 0 ? agingMs : PRIORITY_WITHOUT_AGING_MS;
}

/** How far behind the head of the queue (in rank) a better-fitting job may be taken first. */
export function fitBandRank(policy: SchedulingPolicy): number {
  return policy.affinity && policy.agingMs > 0 ? policy.fitBand * policy.agingMs : 0;
}

/** The job's priority after aging, for display: lower is more urgent. */
export function effectivePriority(
  job: Pick<SchedulableJob, 'priority' | 'pendingSince'>,
  agingMs: number,
  now: number,
) {
  if (agingMs <= 0) return job.priority;
  return job.priority - Math.max(0, now - job.pendingSince) / agingMs;
}

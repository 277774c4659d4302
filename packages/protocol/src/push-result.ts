import type { JobState } from './states.ts';

/**
 * What a push shows at a glance, worst first: a failure or an exception as soon as one job has
 * it, else `running` while anything runs, then `pending` and `waiting`, then the final states;
 * `empty` for a push that planned no jobs. The pushes list filters by it (`?result=`), on the
 * server over every push and in the dashboard over the pushes it holds, so both read it alike.
 */
export const PUSH_RESULTS = [
  'failure',
  'exception',
  'running',
  'pending',
  'waiting',
  'cancelled',
  'skipped',
  'coalesced',
  'success',
  'empty',
] as const;
export type PushResult = (typeof PUSH_RESULTS)[number];

/** The states that show before `result` (worse, or still moving): a push has `result` when none of its jobs has one of these. */
export function statesBefore(result: Exclude<PushResult, 'empty'>): JobState[] {
  return PUSH_RESULTS.slice(0, PUSH_RESULTS.indexOf(result)) as JobState[];
}

/** A push's result from its jobs: a retriggered builder counts by its newest job, which replaced the one it ran again. */
export function pushResultOf(jobs: ReadonlyArray<{ id: number; builder: string; state: JobState }>): PushResult {
  const newest = new Map<string, { id: number; state: JobState }>();
  for (const job of jobs) {
    const seen = newest.get(job.builder);
    if (!seen || seen.id < job.id) newest.set(job.builder, job);
  }
  const states = new Set([...newest.values()].map((job) => job.state));
  return PUSH_RESULTS.find((result) => states.has(result as JobState)) ?? 'empty';
}

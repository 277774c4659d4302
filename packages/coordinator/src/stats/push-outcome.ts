import type { JobState, PushSummary } from '@switchyard/protocol';

/** What the outcome of a push is computed from: its jobs, as stored. */
export interface OutcomeJob {
  id: number;
  builder: string;
  state: string;
  reason: string | null;
  finishedAt: number | null;
}

/** The worst first: a push has the result of its worst job. */
const RESULT_ORDER: readonly JobState[] = ['failure', 'exception', 'cancelled', 'skipped', 'coalesced', 'success'];

/**
 * The jobs that stand for a push: the newest job of each builder, since a retrigger replaces
 * the job it ran again.
 */
export function currentJobs<T extends OutcomeJob>(jobs: readonly T[]): T[] {
  const newest = new Map<string, T>();
  for (const job of jobs) {
    const seen = newest.get(job.builder);
    if (!seen || seen.id < job.id) newest.set(job.builder, job);
  }
  return [...newest.values()].sort((a, b) => a.id - b.id);
}

/** The worst state among final jobs; `skipped` for a push with nothing to run. */
export function pushResult(states: readonly string[]): JobState {
  return RESULT_ORDER.find((state) => states.includes(state)) ?? 'skipped';
}

/** True when the push had jobs and every one that stands for it succeeded. */
export function isGreen(jobs: readonly OutcomeJob[]): boolean {
  const current = currentJobs(jobs);
  return current.length > 0 && current.every((job) => job.state === 'success');
}

export function summarizePush(createdAt: number, jobs: readonly OutcomeJob[]): PushSummary {
  const current = currentJobs(jobs);
  const counts: Record<string, number> = {};
  for (const job of current) counts[job.state] = (counts[job.state] ?? 0) + 1;
  const finishedAt = Math.max(createdAt, ...current.map((job) => job.finishedAt ?? createdAt));
  return {
    result: pushResult(current.map((job) => job.state)),
    jobs: current.length,
    counts,
    durationMs: finishedAt - createdAt,
    finishedAt: new Date(finishedAt).toISOString(),
    notSucceeded: current
      .filter((job) => job.state !== 'success')
      .map((job) => ({ id: job.id, builder: job.builder, state: job.state as JobState, reason: job.reason })),
  };
}

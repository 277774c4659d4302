import type { JobState } from '@switchyard/protocol';
import { dependencyVerdict } from './dependencies.ts';

/** A job of the push, as far as dependencies go. */
export interface PushJob {
  id: number;
  builder: string;
  state: JobState;
  /** Ids of the jobs it waits for, in its builder's `after` order. */
  dependsOn: readonly number[];
}

export type Settlement = { jobId: number; state: 'pending' } | { jobId: number; state: 'skipped'; reason: string };

/**
 * What a job's end does to the jobs waiting for it: a dependent whose dependencies all succeeded
 * becomes pending; one whose dependency ended otherwise is skipped, and so are the jobs waiting
 * for it in turn; the rest keep waiting. `jobs` holds the push's waiting jobs and every job they
 * depend on, the finished one in its final state. In the order to apply them, each job once.
 */
export function settleDependents(finishedJobId: number, jobs: readonly PushJob[]): Settlement[] {
  const byId = new Map(jobs.map((job) => [job.id, job]));
  const state = new Map(jobs.map((job) => [job.id, job.state]));
  const settlements: Settlement[] = [];
  const settle = (doneId: number) => {
    for (const dependent of jobs) {
      if (state.get(dependent.id) !== 'waiting' || !dependent.dependsOn.includes(doneId)) continue;
      const verdict = dependencyVerdict(dependent.dependsOn.map((id) => state.get(id) as JobState));
      if (verdict.state === 'pending') {
        state.set(dependent.id, 'pending');
        settlements.push({ jobId: dependent.id, state: 'pending' });
      } else if (verdict.state === 'skipped') {
        const blocking = byId.get(dependent.dependsOn[verdict.blockingIndex] as number) as PushJob;
        state.set(dependent.id, 'skipped');
        settlements.push({
          jobId: dependent.id,
          state: 'skipped',
          reason: `dependency ${blocking.builder} ended in ${verdict.blockingState}`,
        });
        settle(dependent.id);
      }
    }
  };
  settle(finishedJobId);
  return settlements;
}

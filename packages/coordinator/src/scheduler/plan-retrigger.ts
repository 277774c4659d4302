import { isFinalJobState, type JobState } from '@switchyard/protocol';
import type { Farm } from '../config/farm-config.ts';
import { dependencyVerdict } from './dependencies.ts';
import type { PushedRevision } from './job-spec.ts';
import { queueTerms } from './plan-jobs.ts';
import { type JobPlan, jobPlan } from './plan-push.ts';

export interface RetriggerFacts {
  job: { id: number; builder: string; state: JobState; pushId: number };
  push: PushedRevision;
  /** The newest job of each builder in the job's push, by builder: it may itself be a retrigger. */
  newestJobs: ReadonlyMap<string, { id: number; state: JobState }>;
}

export type RetriggerPlan =
  | { kind: 'refused'; message: string; details: Record<string, unknown> }
  /** A new job of the same push, never coalesced, depending on the newest upstream jobs. */
  | { kind: 'job'; job: JobPlan; dependsOnJobs: number[] };

/**
 * Running a finished job again, as a new job of its push with the builder's current config.
 * Refused while the job is unfinished, when its builder left the config, and when an upstream
 * builder has no job in the push or its newest one ended other than in success (retrigger that
 * one first).
 */
export function planRetrigger(farm: Farm, facts: RetriggerFacts): RetriggerPlan {
  const { job, push } = facts;
  if (!isFinalJobState(job.state)) {
    return refused(`job ${job.id} is still ${job.state}; retrigger a finished job`, { state: job.state });
  }
  const builder = farm.buildersByName.get(job.builder);
  if (!builder) return refused(`builder ${job.builder} is no longer in the configuration`);
  const upstream: { id: number; state: JobState }[] = [];
  for (const name of builder.after) {
    const newest = facts.newestJobs.get(name);
    if (!newest) return refused(`dependency ${name} has no job in push ${job.pushId}`);
    upstream.push(newest);
  }
  const verdict = dependencyVerdict(upstream.map((u) => u.state));
  if (verdict.state === 'skipped') {
    const blocking = upstream[verdict.blockingIndex] as { id: number };
    return refused(
      `dependency ${builder.after[verdict.blockingIndex]} (job ${blocking.id}) ended in ${verdict.blockingState}; retrigger it first`,
    );
  }
  const terms = queueTerms(builder, {
    branch: push.branch,
    branchPriority: farm.branchPriority(push.branch),
    exact: true,
  });
  return {
    kind: 'job',
    job: jobPlan(
      farm,
      { builder, state: verdict.state, reason: null, dependsOn: [...builder.after], ...terms },
      push,
      true,
    ),
    dependsOnJobs: upstream.map((u) => u.id),
  };
}

function refused(message: string, details: Record<string, unknown> = {}): RetriggerPlan {
  return { kind: 'refused', message, details };
}

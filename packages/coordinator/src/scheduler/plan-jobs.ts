import type { JobState } from '@switchyard/protocol';
import { dependencyVerdict } from './dependencies.ts';

/** What planning needs of a builder; the farm config's builders and the simulator's both have it. */
export interface PlannableBuilder {
  name: string;
  /** The builders whose success its job waits for. */
  after: readonly string[];
  /** Added to the branch's priority. */
  priorityOffset: number;
  /** How many jobs one run may stand for; null: never coalesced. */
  coalesceLimit: number | null;
  maxAttempts: number;
}

/** The states a job can be created in. */
export type InitialJobState = Extract<JobState, 'pending' | 'waiting' | 'skipped'>;

export interface PlannedJob<B extends PlannableBuilder> {
  builder: B;
  state: InitialJobState;
  /** Why it is created skipped; null otherwise. */
  reason: string | null;
  /** The builders of `after` that run on this push, planned before it: its job depends on theirs. */
  dependsOn: string[];
  /** Lower is more important. */
  priority: number;
  coalesceLimit: number | null;
  maxAttempts: number;
}

export interface PlannedPush {
  branch: string;
  /** The branch's priority, to which each builder adds its offset. */
  branchPriority: number;
  /** Someone asked for this exact revision: its jobs are never coalesced. */
  exact: boolean;
}

/** Where a builder's job stands in the queue and how far it may be coalesced, on one push. */
export function queueTerms(
  builder: PlannableBuilder,
  push: PlannedPush,
): Pick<PlannedJob<PlannableBuilder>, 'priority' | 'coalesceLimit' | 'maxAttempts'> {
  return {
    priority: push.branchPriority + builder.priorityOffset,
    coalesceLimit: push.exact ? null : builder.coalesceLimit,
    maxAttempts: builder.maxAttempts,
  };
}

/**
 * The jobs of one push, given the builders that run on its branch (in config order), each
 * after the ones it depends on. A job waits for its dependencies, or starts pending without
 * any; it is skipped at once when a dependency does not run on this branch, or was skipped so.
 */
export function planJobs<B extends PlannableBuilder>(running: readonly B[], push: PlannedPush): PlannedJob<B>[] {
  const stateByBuilder = new Map<string, InitialJobState>();
  const planned: PlannedJob<B>[] = [];
  const remaining = [...running];
  while (remaining.length > 0) {
    // Config order, except that `after` may point forward.
    const index = remaining.findIndex((b) => b.after.every((a) => !remaining.some((r) => r.name === a)));
    const builder = remaining.splice(index, 1)[0] as B;
    const dependsOn = builder.after.filter((a) => stateByBuilder.has(a));
    const notRunning = builder.after.find((a) => !stateByBuilder.has(a));
    let state: InitialJobState;
    let reason: string | null = null;
    if (notRunning !== undefined) {
      state = 'skipped';
      reason = `dependency ${notRunning} does not run on branch ${push.branch}`;
    } else {
      const verdict = dependencyVerdict(builder.after.map((a) => stateByBuilder.get(a) as InitialJobState));
      state = verdict.state;
      if (verdict.state === 'skipped') reason = `dependency ${builder.after[verdict.blockingIndex]} was skipped`;
    }
    stateByBuilder.set(builder.name, state);
    planned.push({
      builder,
      state,
      reason,
      dependsOn,
      ...queueTerms(builder, push),
    });
  }
  return planned;
}

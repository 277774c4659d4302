/** Builders of the inputs of a job's life decisions (planning, outcomes, settling), for their tests. */
import type { JobState } from '@switchyard/protocol';
import type { Farm } from '../config/farm-config.ts';
import { parseConfig } from '../config/load-config.ts';
import type { AttemptEnding } from './job-outcome.ts';
import type { PlannableBuilder } from './plan-jobs.ts';
import type { PushJob } from './settle-dependents.ts';
import type { EndedAttempt } from './worker-lesson.ts';

/** A farm of the repositories `gecko` (hg) and `comm` (git), with these `builders:` and more top-level YAML. */
export function farm(builders: string, extra = ''): Farm {
  return parseConfig(
    'farm.yml',
    `repos: [{ name: gecko, url: https://hg.example/gecko, vcs: hg }, { name: comm, url: https://git.example/comm }]
builders:
${builders}
${extra}`,
  );
}

export function plannable(name: string, overrides: Partial<PlannableBuilder> = {}): PlannableBuilder {
  return { name, after: [], priorityOffset: 0, coalesceLimit: null, maxAttempts: 3, ...overrides };
}

export function ending(overrides: Partial<AttemptEnding> = {}): AttemptEnding {
  return {
    result: 'exception',
    reason: 'worker-lost',
    attemptNumber: 1,
    attemptCount: 1,
    maxAttempts: 3,
    ...overrides,
  };
}

export function endedAttempt(overrides: Partial<EndedAttempt> = {}): EndedAttempt {
  return { state: 'success', reason: null, number: 1, jobId: 7, ...overrides };
}

export function pushJob(id: number, builder: string, state: JobState, dependsOn: number[] = []): PushJob {
  return { id, builder, state, dependsOn };
}

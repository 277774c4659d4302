/**
 * Job states. A job is in exactly one; the last seven are final and never change again.
 * `coalesced`: a newer job of the same builder and branch ran in its place (see `coalescedInto`).
 */
export const JOB_STATES = [
  'waiting',
  'pending',
  'running',
  'success',
  'failure',
  'exception',
  'cancelled',
  'skipped',
  'coalesced',
] as const;
export type JobState = (typeof JOB_STATES)[number];

export const FINAL_JOB_STATES: readonly JobState[] = [
  'success',
  'failure',
  'exception',
  'cancelled',
  'skipped',
  'coalesced',
];

export function isFinalJobState(state: JobState): boolean {
  return FINAL_JOB_STATES.includes(state);
}

/** How one attempt (one run on one worker) ended, or `running`. */
export const ATTEMPT_STATES = ['running', 'success', 'failure', 'exception', 'cancelled'] as const;
export type AttemptState = (typeof ATTEMPT_STATES)[number];

/** What a worker reports at the end of an attempt. */
export const ATTEMPT_RESULTS = ['success', 'failure', 'exception'] as const;
export type AttemptResult = (typeof ATTEMPT_RESULTS)[number];

export const STEP_STATES = ['running', 'success', 'failure', 'exception', 'cancelled'] as const;
export type StepState = (typeof STEP_STATES)[number];

export const WORKER_STATES = ['idle', 'busy', 'offline'] as const;
export type WorkerState = (typeof WORKER_STATES)[number];

/** Token scopes. `admin` implies all others. */
export const SCOPES = ['read', 'push', 'cancel', 'worker', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

import type { JobState } from '@switchyard/protocol';

/**
 * What a job with dependencies should be, given their states: `pending` when all succeeded,
 * `skipped` as soon as one ended otherwise, `waiting` while any is unfinished.
 */
export type DependencyVerdict =
  | { state: 'pending' }
  | { state: 'waiting' }
  | { state: 'skipped'; blockingIndex: number; blockingState: JobState };

export function dependencyVerdict(states: readonly JobState[]): DependencyVerdict {
  let waiting = false;
  for (let i = 0; i < states.length; i++) {
    const state = states[i] as JobState;
    if (state === 'success') continue;
    if (state === 'waiting' || state === 'pending' || state === 'running') {
      waiting = true;
      continue;
    }
    return { state: 'skipped', blockingIndex: i, blockingState: state };
  }
  return waiting ? { state: 'waiting' } : { state: 'pending' };
}

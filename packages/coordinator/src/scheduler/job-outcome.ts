import type { AttemptResult } from '@switchyard/protocol';

/** Attempt endings that say nothing about the job itself, so another attempt may succeed. */
export const RETRYABLE_REASONS: ReadonlySet<string> = new Set([
  'worker-lost',
  'worker-restarted',
  'worker-stopped',
  'lost-contact',
  'checkout-failed',
  'tools-failed',
  'worker-error',
  'coordinator-unavailable',
  'signer-unavailable',
]);

export interface AttemptEnding {
  result: AttemptResult;
  /** Why it ended so (`worker-lost`, `timeout`, …); null for a plain success or failure. */
  reason: string | null;
  /** Which attempt of the job it was, from 1. */
  attemptNumber: number;
  /** How many attempts the job has had, this one included. */
  attemptCount: number;
  maxAttempts: number;
}

export type JobAfterAttempt =
  /** Pending again, keeping its place in the queue. */
  { kind: 'retry'; reason: string } | { kind: 'finish'; state: AttemptResult; reason: string | null };

/**
 * What becomes of a job when an attempt ends: an exception that is not the job's fault is
 * retried until the job has used its attempts; everything else ends the job as the attempt did.
 */
export function jobAfterAttempt(ending: AttemptEnding): JobAfterAttempt {
  const { result, reason } = ending;
  const retryable = result === 'exception' && reason !== null && RETRYABLE_REASONS.has(reason);
  if (retryable && ending.attemptCount < ending.maxAttempts)
    return { kind: 'retry', reason: `retrying after ${reason}` };
  return {
    kind: 'finish',
    state: result,
    reason: retryable ? `${reason} (attempt ${ending.attemptNumber} of ${ending.maxAttempts})` : reason,
  };
}

/** Why a pending job ended `coalesced`: the newer run that stands for it. */
export function coalescedReason(into: { id: number; revision: string; branch: string }): string {
  return `coalesced into job ${into.id}, which builds the newer revision ${into.revision.slice(0, 12)} of ${into.branch}`;
}

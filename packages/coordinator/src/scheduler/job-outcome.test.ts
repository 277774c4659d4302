import { describe, expect, it } from 'vitest';
import { ending } from './decision-testing.ts';
import { coalescedReason, jobAfterAttempt, RETRYABLE_REASONS } from './job-outcome.ts';

describe('jobAfterAttempt', () => {
  it.each([
    'worker-lost',
    'worker-restarted',
    'worker-stopped',
    'lost-contact',
    'checkout-failed',
    'tools-failed',
    'worker-error',
    'coordinator-unavailable',
  ])('retries an exception for %s while the job has attempts left', (reason) => {
    expect(RETRYABLE_REASONS.has(reason)).toBe(true);
    expect(jobAfterAttempt(ending({ reason, attemptNumber: 2, attemptCount: 2, maxAttempts: 3 }))).toEqual({
      kind: 'retry',
      reason: `retrying after ${reason}`,
    });
  });

  it('ends the job in exception once it used its last attempt, counting them in the reason', () => {
    expect(jobAfterAttempt(ending({ reason: 'worker-lost', attemptNumber: 3, attemptCount: 3 }))).toEqual({
      kind: 'finish',
      state: 'exception',
      reason: 'worker-lost (attempt 3 of 3)',
    });
    expect(jobAfterAttempt(ending({ reason: 'checkout-failed', maxAttempts: 1 }))).toEqual({
      kind: 'finish',
      state: 'exception',
      reason: 'checkout-failed (attempt 1 of 1)',
    });
  });

  it.each(['timeout', 'cancelled', 'invalid-job', 'out-of-disk', null])(
    'ends the job at once for an exception the job itself caused (%s)',
    (reason) => {
      expect(jobAfterAttempt(ending({ reason }))).toEqual({ kind: 'finish', state: 'exception', reason });
    },
  );

  it('ends the job as a success or a failure did, whatever attempts remain', () => {
    expect(jobAfterAttempt(ending({ result: 'success', reason: null }))).toEqual({
      kind: 'finish',
      state: 'success',
      reason: null,
    });
    expect(jobAfterAttempt(ending({ result: 'failure', reason: 'worker-lost' }))).toEqual({
      kind: 'finish',
      state: 'failure',
      reason: 'worker-lost',
    });
  });
});

describe('coalescedReason', () => {
  it('names the job that ran in its place and the first 12 characters of its revision', () => {
    expect(coalescedReason({ id: 42, revision: '0123456789abcdef0123', branch: 'main' })).toBe(
      'coalesced into job 42, which builds the newer revision 0123456789ab of main',
    );
  });
});

import { describe, expect, it } from 'vitest';
import { endedAttempt } from './decision-testing.ts';
import { FIRST_BENCH_MS, LONGEST_BENCH_MS } from './worker-health.ts';
import { workerLesson } from './worker-lesson.ts';

const NOW = 1_000_000;

describe('workerLesson', () => {
  it('benches a worker after an exception, longer for each one in a row, at most an hour', () => {
    const exception = endedAttempt({ state: 'exception', reason: 'worker-lost', number: 2, jobId: 9 });
    expect(workerLesson(exception, 0, NOW)).toEqual({
      kind: 'bench',
      streak: 1,
      benchedUntil: NOW + FIRST_BENCH_MS,
      reason: 'attempt 2 of job 9 ended in exception (worker-lost)',
    });
    expect(workerLesson(exception, 2, NOW)).toMatchObject({ streak: 3, benchedUntil: NOW + 4 * FIRST_BENCH_MS });
    expect(workerLesson(exception, 40, NOW)).toMatchObject({ streak: 41, benchedUntil: NOW + LONGEST_BENCH_MS });
  });

  it('says `unknown` for an exception without a reason', () => {
    expect(workerLesson(endedAttempt({ state: 'exception', reason: null }), 0, NOW)).toMatchObject({
      reason: 'attempt 1 of job 7 ended in exception (unknown)',
    });
  });

  it.each(['timeout', 'invalid-job', 'worker-stopped', 'coordinator-unavailable'])(
    'does not bench for an exception that is not the machine’s fault (%s)',
    (reason) => {
      expect(workerLesson(endedAttempt({ state: 'exception', reason }), 3, NOW)).toEqual({ kind: 'nothing' });
    },
  );

  it('learns nothing from a cancelled attempt, or one still running', () => {
    expect(workerLesson(endedAttempt({ state: 'cancelled', reason: 'cancelled' }), 3, NOW)).toEqual({
      kind: 'nothing',
    });
    expect(workerLesson(endedAttempt({ state: 'running' }), 3, NOW)).toEqual({ kind: 'nothing' });
  });

  it('ends the streak on a success, which also teaches speed, or an ordinary failure, which does not', () => {
    expect(workerLesson(endedAttempt({ state: 'success' }), 3, NOW)).toEqual({ kind: 'healthy', learnsSpeed: true });
    expect(workerLesson(endedAttempt({ state: 'failure' }), 3, NOW)).toEqual({ kind: 'healthy', learnsSpeed: false });
  });
});

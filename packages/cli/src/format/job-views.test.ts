import { describe, expect, test } from 'vitest';
import { makeAttempt, makeJobDetail, makeStep } from '../testing/fixtures.ts';
import { formatJobDetail } from './job-views.ts';
import { plainStyle } from './style.ts';

const now = new Date('2025-01-02T09:10:00.000Z');

describe('formatJobDetail', () => {
  test('shows the job, then each attempt, then the steps of every attempt', () => {
    const job = makeJobDetail({
      attemptCount: 2,
      dependsOn: [11],
      attempts: [
        makeAttempt({
          number: 1,
          worker: 'w2',
          state: 'exception',
          reason: 'worker-lost',
          durationMs: 31_000,
          steps: [],
        }),
        makeAttempt({
          number: 2,
          steps: [
            makeStep({ name: 'checkout', durationMs: 40 }),
            makeStep({ index: 1, name: 'compile', state: 'failure', exitCode: 2 }),
          ],
        }),
      ],
    });
    expect(formatJobDetail(job, plainStyle, now).split('\n')).toEqual([
      'job 12 build-linux demo/main@abc1234  success',
      'push      3',
      'pool      linux, worker w1',
      'created   10 m ago, started 9 m ago',
      'duration  3.2 s',
      'after     job 11',
      "chosen    first in its pool's queue",
      '',
      'ATTEMPT  WORKER  STATE      REASON       DURATION',
      '1        w2      exception  worker-lost  31.0 s',
      '2        w1      success                 3.2 s',
      '',
      'ATTEMPT  STEP      STATE    EXIT  DURATION',
      '2        checkout  success  0     40 ms',
      '2        compile   failure  2     2.1 s',
    ]);
  });

  test('a pending job says why it waits, a coalesced one what ran in its place', () => {
    const pending = makeJobDetail({
      state: 'pending',
      attempts: [],
      scheduling: {
        waitingBecause: 'no worker of pool linux is online',
        chosenBecause: null,
        queuePosition: 3,
        effectivePriority: 3.5,
      },
    });
    const text = formatJobDetail(pending, plainStyle, now);
    expect(text).toContain('priority  4, #3 in the queue\nwaiting   no worker of pool linux is online');
    const coalesced = makeJobDetail({ state: 'coalesced', coalescedInto: 15, attempts: [] });
    expect(formatJobDetail(coalesced, plainStyle, now)).toContain('ran as    job 15 (coalesced)');
  });

  test('a job that has not run yet says so', () => {
    const job = makeJobDetail({ state: 'waiting', worker: null, startedAt: null, durationMs: null, attempts: [] });
    const text = formatJobDetail(job, plainStyle, now);
    expect(text).toContain('created   10 m ago\n');
    expect(text).toContain('duration  -');
    expect(text).toMatch(/no attempts yet \(waiting\)$/);
  });
});

import { describe, expect, test } from 'vitest';
import { makeJob, makePush } from '../testing/fixtures.ts';
import { formatJobTable, formatNewJobTable, formatPushHeader, formatPushTable } from './push-views.ts';
import { plainStyle } from './style.ts';

const now = new Date('2025-01-02T09:04:00.000Z');

describe('formatPushTable', () => {
  test('one aligned line per push, with its jobs summed up by state', () => {
    const pushes = [
      makePush({
        id: 4,
        branch: 'release/1.0',
        jobs: [{ id: 14, builder: 'build', state: 'running', attemptCount: 1 }],
      }),
      makePush(),
    ];
    expect(formatPushTable(pushes, plainStyle, now).split('\n')).toEqual([
      'PUSH  REPO  BRANCH       REV      AUTHOR        AGE      JOBS',
      '4     demo  release/1.0  abc1234  Ada Lovelace  4 m ago  1 running',
      '3     demo  main         abc1234  Ada Lovelace  4 m ago  1 waiting, 1 pending',
    ]);
  });

  test('says so when there are no pushes', () => {
    expect(formatPushTable([], plainStyle, now)).toBe('no pushes yet');
  });
});

describe('formatPushHeader', () => {
  test('shows the ref, the author, the subject and how many files changed', () => {
    expect(formatPushHeader(makePush(), plainStyle, now).split('\n')).toEqual([
      'push 3  demo/main@abc1234  4 m ago',
      'author   Ada Lovelace <ada@example.com>',
      'message  Parse nested blocks',
      'files    1',
    ]);
  });
});

describe('formatNewJobTable', () => {
  test('lists the jobs a push made', () => {
    expect(formatNewJobTable(makePush(), plainStyle).split('\n')).toEqual([
      'JOB  BUILDER    STATE',
      '12   build      pending',
      '13   test-unit  waiting',
    ]);
  });
});

describe('formatJobTable', () => {
  test('shows where and how long each job ran', () => {
    const jobs = [
      makeJob(),
      makeJob({ id: 13, builder: 'test', state: 'exception', reason: 'timeout', attemptCount: 3, worker: 'w2' }),
    ];
    expect(formatJobTable(jobs, plainStyle).split('\n')).toEqual([
      'JOB  BUILDER      STATE      REASON   WORKER  ATTEMPTS  DURATION',
      '12   build-linux  success             w1      1/3       3.2 s',
      '13   test         exception  timeout  w2      3/3       3.2 s',
    ]);
  });
});

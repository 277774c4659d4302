import { describe, expect, it } from 'vitest';
import { chooseJob } from './choose-job.ts';
import { dependencyVerdict } from './dependencies.ts';

const worker = { name: 'w1', pool: 'linux', tags: { os: 'debian', arch: 'x64' } };

describe('chooseJob', () => {
  it('takes the first job in queue order', () => {
    const result = chooseJob(
      [
        { id: 3, priority: 0, requiredTags: {} },
        { id: 4, priority: 0, requiredTags: {} },
      ],
      worker,
    );
    expect(result.job?.id).toBe(3);
  });

  it('skips jobs the worker cannot run without blocking those behind them', () => {
    const result = chooseJob(
      [
        { id: 1, priority: 0, requiredTags: { os: 'windows' } },
        { id: 2, priority: 0, requiredTags: { arch: 'x64' } },
      ],
      worker,
    );
    expect(result).toEqual({ job: { id: 2, priority: 0, requiredTags: { arch: 'x64' } }, skipped: 1 });
  });

  it('says why nothing was chosen', () => {
    expect(chooseJob([], worker)).toEqual({ job: null, reason: 'no pending job in pool linux' });
    const none = chooseJob([{ id: 1, priority: 0, requiredTags: { gpu: 'yes' } }], worker);
    expect(none.job).toBeNull();
  });
});

describe('dependencyVerdict', () => {
  it('is pending when every dependency succeeded', () => {
    expect(dependencyVerdict([])).toEqual({ state: 'pending' });
    expect(dependencyVerdict(['success', 'success'])).toEqual({ state: 'pending' });
  });

  it('waits while a dependency is unfinished', () => {
    expect(dependencyVerdict(['success', 'running'])).toEqual({ state: 'waiting' });
    expect(dependencyVerdict(['waiting'])).toEqual({ state: 'waiting' });
  });

  it('is skipped as soon as one dependency ended otherwise', () => {
    expect(dependencyVerdict(['pending', 'failure'])).toEqual({
      state: 'skipped',
      blockingIndex: 1,
      blockingState: 'failure',
    });
    expect(dependencyVerdict(['exception'])).toMatchObject({ state: 'skipped', blockingState: 'exception' });
    expect(dependencyVerdict(['cancelled'])).toMatchObject({ state: 'skipped' });
  });
});

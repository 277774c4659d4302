import { describe, expect, it } from 'vitest';
import { dependencyVerdict } from './dependencies.ts';

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

import { describe, expect, it } from 'vitest';
import { pushJob } from './decision-testing.ts';
import { settleDependents } from './settle-dependents.ts';

describe('settleDependents', () => {
  it('makes a dependent pending once all its dependencies succeeded', () => {
    const jobs = [pushJob(1, 'build', 'success'), pushJob(2, 'lint', 'success'), pushJob(3, 'test', 'waiting', [1, 2])];
    expect(settleDependents(1, jobs)).toEqual([{ jobId: 3, state: 'pending' }]);
  });

  it('leaves a dependent waiting while another of its dependencies is unfinished', () => {
    const jobs = [pushJob(1, 'build', 'success'), pushJob(2, 'lint', 'running'), pushJob(3, 'test', 'waiting', [1, 2])];
    expect(settleDependents(1, jobs)).toEqual([]);
  });

  it('skips the dependents of a job that did not succeed, and theirs in turn, each once', () => {
    const jobs = [
      pushJob(1, 'build', 'failure'),
      pushJob(2, 'test', 'waiting', [1]),
      pushJob(3, 'report', 'waiting', [2, 1]),
      pushJob(4, 'upload', 'waiting', [3]),
      pushJob(5, 'lint', 'pending'),
      pushJob(6, 'lint-report', 'waiting', [5]),
    ];
    expect(settleDependents(1, jobs)).toEqual([
      { jobId: 2, state: 'skipped', reason: 'dependency build ended in failure' },
      { jobId: 3, state: 'skipped', reason: 'dependency test ended in skipped' },
      { jobId: 4, state: 'skipped', reason: 'dependency report ended in skipped' },
    ]);
  });

  it('skips what waited for a job that was coalesced or cancelled', () => {
    expect(settleDependents(1, [pushJob(1, 'talos', 'coalesced'), pushJob(2, 'compare', 'waiting', [1])])).toEqual([
      { jobId: 2, state: 'skipped', reason: 'dependency talos ended in coalesced' },
    ]);
    expect(settleDependents(1, [pushJob(1, 'build', 'cancelled'), pushJob(2, 'test', 'waiting', [1])])).toEqual([
      { jobId: 2, state: 'skipped', reason: 'dependency build ended in cancelled' },
    ]);
  });

  it('touches only jobs still waiting', () => {
    const jobs = [
      pushJob(1, 'build', 'success'),
      pushJob(2, 'test', 'pending', [1]),
      pushJob(3, 'old', 'skipped', [1]),
    ];
    expect(settleDependents(1, jobs)).toEqual([]);
  });
});

import { describe, expect, it } from 'vitest';
import { plannable } from './decision-testing.ts';
import { planJobs } from './plan-jobs.ts';

const MAIN = { branch: 'main', branchPriority: 2, exact: false };

const summary = (jobs: ReturnType<typeof planJobs>) =>
  jobs.map((job) => [job.builder.name, job.state, job.reason, job.dependsOn]);

describe('planJobs', () => {
  it('starts the jobs without dependencies pending and the others waiting', () => {
    const jobs = planJobs(
      [plannable('build'), plannable('test', { after: ['build'] }), plannable('report', { after: ['build', 'test'] })],
      MAIN,
    );
    expect(summary(jobs)).toEqual([
      ['build', 'pending', null, []],
      ['test', 'waiting', null, ['build']],
      ['report', 'waiting', null, ['build', 'test']],
    ]);
  });

  it('creates a job after the ones it depends on when `after` points forward, else in config order', () => {
    const jobs = planJobs(
      [
        plannable('lint'),
        plannable('package', { after: ['test'] }),
        plannable('test', { after: ['build'] }),
        plannable('build'),
        plannable('docs'),
      ],
      MAIN,
    );
    expect(jobs.map((job) => job.builder.name)).toEqual(['lint', 'build', 'test', 'package', 'docs']);
  });

  it('skips a job whose dependency does not run on the branch, and what depends on it', () => {
    // `build-release` is not among the builders running on main.
    const jobs = planJobs(
      [
        plannable('build'),
        plannable('sign', { after: ['build', 'build-release'] }),
        plannable('publish', { after: ['sign'] }),
      ],
      MAIN,
    );
    expect(summary(jobs)).toEqual([
      ['build', 'pending', null, []],
      ['sign', 'skipped', 'dependency build-release does not run on branch main', ['build']],
      ['publish', 'skipped', 'dependency sign was skipped', ['sign']],
    ]);
  });

  it('adds the builder’s offset to the branch’s priority and keeps its attempts', () => {
    const [job] = planJobs([plannable('talos', { priorityOffset: 3, maxAttempts: 5 })], MAIN);
    expect(job).toMatchObject({ priority: 5, maxAttempts: 5 });
  });

  it('lets a coalescing builder’s jobs be coalesced, unless the push asked for its exact revision', () => {
    const builders = [plannable('talos', { coalesceLimit: 4 }), plannable('build')];
    expect(planJobs(builders, MAIN).map((job) => job.coalesceLimit)).toEqual([4, null]);
    expect(planJobs(builders, { ...MAIN, exact: true }).map((job) => job.coalesceLimit)).toEqual([null, null]);
  });
});

import type { JobState } from '@switchyard/protocol';
import { describe, expect, it } from 'vitest';
import { farm } from './decision-testing.ts';
import { planRetrigger, type RetriggerFacts } from './plan-retrigger.ts';

const FARM = farm(`  - { name: build, repo: gecko, pool: linux, steps: [{ name: s, run: make }] }
  - { name: test, repo: gecko, pool: linux, after: build, steps: [{ name: s, run: make check }] }
  - { name: talos, repo: gecko, pool: perf, after: [build, test], coalesce: latest, steps: [{ name: s, run: "true" }] }`);

/** The push's newest jobs: build 1, test 2, talos 3, in the given states. */
function facts(
  builder: string,
  states: Partial<Record<'build' | 'test' | 'talos', JobState>>,
  newer: Record<string, { id: number; state: JobState }> = {},
): RetriggerFacts {
  const ids = { build: 1, test: 2, talos: 3 };
  const newestJobs = new Map(
    Object.entries(states).map(([name, state]) => [name, { id: ids[name as 'build'], state }]),
  );
  for (const [name, job] of Object.entries(newer)) newestJobs.set(name, job);
  return {
    job: { id: ids[builder as 'build'] ?? 9, builder, state: states[builder as 'build'] ?? 'failure', pushId: 5 },
    push: { repo: 'gecko', repoUrl: 'https://hg.example/gecko-at-push-time', branch: 'main', revision: 'abc' },
    newestJobs,
  };
}

describe('planRetrigger', () => {
  it('refuses a job that has not finished', () => {
    expect(planRetrigger(FARM, facts('build', { build: 'running' }))).toEqual({
      kind: 'refused',
      message: 'job 1 is still running; retrigger a finished job',
      details: { state: 'running' },
    });
  });

  it('refuses a job whose builder left the configuration', () => {
    expect(planRetrigger(FARM, facts('nightly', { build: 'success' }))).toMatchObject({
      kind: 'refused',
      message: 'builder nightly is no longer in the configuration',
    });
  });

  it('refuses when an upstream builder has no job in the push', () => {
    expect(planRetrigger(FARM, facts('test', { test: 'failure' }))).toMatchObject({
      kind: 'refused',
      message: 'dependency build has no job in push 5',
    });
  });

  it('refuses when the newest job of an upstream builder did not succeed: retrigger that one first', () => {
    expect(planRetrigger(FARM, facts('talos', { build: 'success', test: 'failure', talos: 'skipped' }))).toMatchObject({
      kind: 'refused',
      message: 'dependency test (job 2) ended in failure; retrigger it first',
    });
  });

  it('depends on the newest upstream jobs: a successful retrigger of a failed one lets it run now', () => {
    const plan = planRetrigger(
      FARM,
      facts('talos', { build: 'success', test: 'failure', talos: 'skipped' }, { test: { id: 8, state: 'success' } }),
    );
    expect(plan).toMatchObject({
      kind: 'job',
      dependsOnJobs: [1, 8],
      job: { state: 'pending', dependsOn: ['build', 'test'] },
    });
  });

  it('waits while an upstream retrigger is still unfinished', () => {
    const plan = planRetrigger(
      FARM,
      facts('talos', { build: 'success', test: 'failure', talos: 'skipped' }, { test: { id: 8, state: 'running' } }),
    );
    expect(plan).toMatchObject({ kind: 'job', job: { state: 'waiting', reason: null } });
  });

  it('runs the exact revision, never coalesced, with the current config and the push’s repository URL', () => {
    const plan = planRetrigger(FARM, facts('talos', { build: 'success', test: 'success', talos: 'failure' }));
    expect(plan).toMatchObject({
      kind: 'job',
      job: {
        builder: 'talos',
        exact: true,
        coalesceLimit: null,
        priority: 4,
        spec: { repo: { url: 'https://hg.example/gecko-at-push-time', vcs: 'hg' }, revision: 'abc' },
      },
    });
  });
});

import { describe, expect, it } from 'vitest';
import { farm } from './decision-testing.ts';
import { type JobPlan, planPush } from './plan-push.ts';

const FARM = farm(
  `  - name: test
    repo: gecko
    pool: linux
    after: build
    steps: [{ name: t, run: make check }]
    fetch: [{ from: build, artifact: firefox.tar.bz2 }]
    artifacts: [{ path: report.xml, name: junit.xml, optional: true }]
  - name: build
    repo: gecko
    pool: linux
    priority: -1
    tags: { gpu: "yes" }
    env: { JOBS: 8, DEBUG: false }
    steps: [{ name: compile, run: make, timeout: 600, env: { CC: clang } }, { name: upload, run: ./upload }]
    artifacts: [dist/firefox.tar.bz2]
  - { name: talos, repo: gecko, pool: perf, after: build-release, coalesce: latest, coalesce_limit: 4, steps: [{ name: s, run: "true" }] }
  - { name: build-release, repo: gecko, pool: linux, branches: ["release/*"], steps: [{ name: s, run: "true" }] }
  - { name: comm-build, repo: comm, pool: linux, steps: [{ name: s, run: "true" }] }`,
  `branches: [{ match: "release/*", priority: 0 }, { match: main, priority: 2 }]
server: { step_timeout: 1800, max_attempts: 4 }`,
);

const push = (branch: string, exact = false) => ({ repo: 'gecko', branch, revision: 'abcdef0123456789', exact });

function jobsOf(branch: string, exact = false): JobPlan[] {
  const plan = planPush(FARM, push(branch, exact));
  if (plan.kind !== 'jobs') throw new Error(`expected jobs, got ${plan.kind}`);
  return plan.jobs;
}

describe('planPush', () => {
  it('refuses a repository the farm does not have, naming those it has', () => {
    expect(planPush(FARM, { ...push('main'), repo: 'chromium' })).toEqual({
      kind: 'unknown-repo',
      knownRepos: ['gecko', 'comm'],
    });
  });

  it('plans the builders of the push’s repository that run on its branch, each after its dependencies', () => {
    const plan = planPush(FARM, push('release/1.0'));
    expect(plan).toMatchObject({ kind: 'jobs', repo: { name: 'gecko', url: 'https://hg.example/gecko' } });
    const jobs = jobsOf('release/1.0');
    expect(jobs.map((job) => [job.builder, job.state, job.dependsOn])).toEqual([
      ['build', 'pending', []],
      ['test', 'waiting', ['build']],
      ['build-release', 'pending', []],
      ['talos', 'waiting', ['build-release']],
    ]);
  });

  it('creates a job whose dependency does not run on the branch as skipped, saying why', () => {
    const talos = jobsOf('main').find((job) => job.builder === 'talos');
    expect(talos).toMatchObject({
      state: 'skipped',
      reason: 'dependency build-release does not run on branch main',
      dependsOn: [],
    });
  });

  it('freezes the spec: repository, revision, steps with their timeouts, string env, artifacts, fetches', () => {
    const build = jobsOf('main').find((job) => job.builder === 'build') as JobPlan;
    expect(build.spec).toEqual({
      repo: { name: 'gecko', url: 'https://hg.example/gecko', vcs: 'hg' },
      branch: 'main',
      revision: 'abcdef0123456789',
      builder: 'build',
      checkout: true,
      env: { JOBS: '8', DEBUG: 'false' },
      steps: [
        { name: 'compile', run: 'make', env: { CC: 'clang' }, timeoutSeconds: 600 },
        { name: 'upload', run: './upload', env: {}, timeoutSeconds: 1800 },
      ],
      artifacts: [{ path: 'dist/firefox.tar.bz2', optional: false }],
      fetch: [],
    });
    expect(build).toMatchObject({ pool: 'linux', requiredTags: { gpu: 'yes' }, prefer: 'fast', maxAttempts: 4 });
    const test = jobsOf('main').find((job) => job.builder === 'test') as JobPlan;
    expect(test.spec.artifacts).toEqual([{ path: 'report.xml', name: 'junit.xml', optional: true }]);
    expect(test.spec.fetch).toEqual([{ from: 'build', artifact: 'firefox.tar.bz2', to: '.', unpack: false }]);
  });

  it('gives each job its branch’s priority plus its builder’s offset', () => {
    expect(jobsOf('main').map((job) => [job.builder, job.priority])).toEqual([
      ['build', 1],
      ['test', 2],
      ['talos', 2],
    ]);
    expect(jobsOf('try').find((job) => job.builder === 'build')?.priority).toBe(3);
  });

  it('never lets the jobs of an exact push be coalesced', () => {
    const talos = (exact: boolean) => jobsOf('release/1.0', exact).find((job) => job.builder === 'talos');
    expect(talos(false)).toMatchObject({ coalesceLimit: 4, exact: false });
    expect(talos(true)).toMatchObject({ coalesceLimit: null, exact: true });
  });
});

import { execFileSync } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JobSpec, StepSpec } from '@switchyard/protocol';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type RunningWorker, startWorker } from './index.ts';
import { FakeCoordinator, type Report } from './testing/fake-coordinator.ts';
import { diesWithin } from './testing/process-state.ts';

let fixtureDir: string;
let repoUrl: string;
let firstCommit: string;
let secondCommit: string;

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.name=Test', '-c', 'user.email=test@example.com', ...args], {
    cwd,
    encoding: 'utf8',
  }).trim();
}

beforeAll(async () => {
  fixtureDir = await mkdtemp(join(tmpdir(), 'switchyard-repo-'));
  repoUrl = join(fixtureDir, 'repo');
  execFileSync('git', ['init', '--quiet', repoUrl]);
  await writeFile(join(repoUrl, 'hello.txt'), 'first version\n');
  git(repoUrl, 'add', 'hello.txt');
  git(repoUrl, 'commit', '--quiet', '-m', 'first');
  firstCommit = git(repoUrl, 'rev-parse', 'HEAD');
  await writeFile(join(repoUrl, 'hello.txt'), 'second version\n');
  git(repoUrl, 'commit', '--quiet', '-am', 'second');
  secondCommit = git(repoUrl, 'rev-parse', 'HEAD');
});

afterAll(async () => {
  await rm(fixtureDir, { recursive: true, force: true });
});

let coordinator: FakeCoordinator;
let workDir: string;
let worker: RunningWorker;

function start(options: { killGraceMs?: number } = {}): RunningWorker {
  worker = startWorker({
    server: coordinator.url,
    name: 'test-worker',
    pool: 'linux',
    workDir,
    tags: { os: 'linux' },
    logger: pino({ level: 'silent' }),
    claimWaitSeconds: 1,
    killGraceMs: options.killGraceMs ?? 500,
  });
  return worker;
}

beforeEach(async () => {
  coordinator = new FakeCoordinator();
  await coordinator.start();
  workDir = await mkdtemp(join(tmpdir(), 'switchyard-worker-'));
});

afterEach(async () => {
  await worker?.stop();
  await coordinator.close();
  await rm(workDir, { recursive: true, force: true });
});

function step(name: string, run: string, extra: Partial<StepSpec> = {}): StepSpec {
  return { name, run, env: {}, timeoutSeconds: 60, ...extra };
}

function job(steps: StepSpec[], extra: Partial<JobSpec> = {}): JobSpec {
  return {
    id: 7,
    pushId: 1,
    repo: { name: 'demo', url: repoUrl },
    branch: 'main',
    revision: firstCommit,
    builder: 'linux-build',
    checkout: false,
    env: {},
    steps,
    ...extra,
  };
}

/** Started, then its logs, then finished, step after step, and the attempt's result last. */
function expectReportsInOrder(reports: Report[]): void {
  let step = -1;
  let open = false;
  for (const [position, report] of reports.entries()) {
    if (report.type === 'started') {
      expect(open).toBe(false);
      expect(report.step).toBe(step + 1);
      step = report.step;
      open = true;
    } else if (report.type === 'log' || report.type === 'finished') {
      expect(open).toBe(true);
      expect(report.step).toBe(step);
      if (report.type === 'finished') open = false;
    } else {
      expect(position).toBe(reports.length - 1);
    }
  }
}

describe('startWorker', () => {
  it('checks out the exact revision, runs the steps in it with the job environment, and reports success', async () => {
    const attemptId = coordinator.assign(
      job(
        [
          step(
            'show',
            'cat hello.txt; echo "$SWITCHYARD_JOB_ID $SWITCHYARD_STEP $SWITCHYARD_ATTEMPT $FROM_JOB $FROM_STEP"',
            {
              env: { FROM_STEP: 'step-env' },
            },
          ),
          step('head', 'git rev-parse HEAD; echo oops >&2'),
        ],
        { checkout: true, env: { FROM_JOB: 'job-env' } },
      ),
    );
    start();
    expect(await coordinator.result(attemptId)).toEqual({ type: 'attempt', attemptId, result: 'success' });

    const reports = coordinator.forAttempt(attemptId);
    expectReportsInOrder(reports);
    const started = reports.filter((r) => r.type === 'started').map((r) => r.name);
    expect(started).toEqual(['checkout', 'show', 'head']);
    const checkoutLog = coordinator.log(attemptId, 0).header;
    expect(checkoutLog).toContain(`checking out ${firstCommit} of ${repoUrl} (git)`);
    expect(checkoutLog).toMatch(
      /checkout \d+ ms \(new store\): lock \d+ ms, fetch \d+ ms, checkout \d+ ms, clean \d+ ms/,
    );
    expect(coordinator.log(attemptId, 1)).toMatchObject({
      header: expect.stringMatching(/^\$ cat hello.txt;.*\nexited with code 0\n$/),
      stdout: 'first version\n7 show 1 job-env step-env\n',
    });
    expect(coordinator.log(attemptId, 2)).toMatchObject({ stdout: `${firstCommit}\n`, stderr: 'oops\n' });
    const finished = reports.filter((r) => r.type === 'finished');
    expect(finished.map((r) => r.exitCode)).toEqual([0, 0, 0]);

    expect(coordinator.claims[0]).toMatchObject({
      worker: 'test-worker',
      body: { pool: 'linux', tags: { os: 'linux' }, version: '0.1.0', waitSeconds: 1 },
    });
  });

  it('stops at the first failing step and reports failure', async () => {
    const attemptId = coordinator.assign(job([step('build', 'echo building; exit 4'), step('test', 'echo never')]));
    start();
    expect(await coordinator.result(attemptId)).toMatchObject({
      result: 'failure',
      message: 'step build exited with code 4',
    });
    const reports = coordinator.forAttempt(attemptId);
    expectReportsInOrder(reports);
    expect(reports.filter((r) => r.type === 'started').map((r) => r.name)).toEqual(['build']);
    expect(coordinator.log(attemptId, 0).stdout).toBe('building\n');
  });

  it('reports a checkout that fails as an exception and runs no step', async () => {
    const attemptId = coordinator.assign(
      job([step('build', 'echo never')], { checkout: true, repo: { name: 'gone', url: join(fixtureDir, 'missing') } }),
    );
    start();
    expect(await coordinator.result(attemptId)).toMatchObject({ result: 'exception', reason: 'checkout-failed' });
    const reports = coordinator.forAttempt(attemptId);
    expect(reports.filter((r) => r.type === 'started').map((r) => r.name)).toEqual(['checkout']);
    expect(coordinator.log(attemptId, 0).header).toMatch(/could not check out .* from .*missing/);
  });

  it('fails the job, without a retry, when the repository does not have the revision', async () => {
    const attemptId = coordinator.assign(
      job([step('build', 'echo never')], { checkout: true, revision: 'f'.repeat(40) }),
    );
    start();
    expect(await coordinator.result(attemptId)).toMatchObject({
      result: 'failure',
      message: expect.stringMatching(/revision f{40} is not in/),
    });
  });

  it.each([
    ['a NUL byte in its environment', { branch: 'ma\u0000in' }],
    ['an environment past the system limit', { env: { HUGE: 'x'.repeat(200_000) } }],
  ])(
    'reports a step whose process the job itself keeps from starting (%s) as invalid-job, and goes on working',
    async (_, extra) => {
      const refused = coordinator.assign(job([step('build', 'echo never')], extra));
      const next = coordinator.assign(job([step('build', 'echo fine')], { id: 8 }));
      start();
      expect(await coordinator.result(refused)).toMatchObject({
        result: 'exception',
        reason: 'invalid-job',
        message: expect.stringMatching(/^step build could not start, as its command or environment can't be run: /),
      });
      expect(coordinator.log(refused, 0).header).toMatch(/could not start: /);
      expect(await coordinator.result(next)).toMatchObject({ result: 'success' });
    },
  );

  it('reports a step past its timeout as an exception', async () => {
    const attemptId = coordinator.assign(job([step('hang', 'sleep 300', { timeoutSeconds: 1 }), step('next', 'true')]));
    start();
    expect(await coordinator.result(attemptId)).toMatchObject({ result: 'exception', reason: 'timeout' });
    expect(coordinator.forAttempt(attemptId).find((r) => r.type === 'finished')).toMatchObject({
      timedOut: true,
      cancelled: false,
    });
    expect(coordinator.log(attemptId, 0).header).toContain('timed out after 1 s; killing process group\n');
  });

  it('kills the step when the heartbeat answers cancel, and reports the attempt as cancelled', async () => {
    const attemptId = coordinator.assign(job([step('long', 'echo running; sleep 300'), step('next', 'true')]));
    start();
    await coordinator.waitFor(() => coordinator.log(attemptId, 0).stdout === 'running\n');
    coordinator.cancel(attemptId);
    expect(await coordinator.result(attemptId)).toMatchObject({ result: 'exception', reason: 'cancelled' });
    const reports = coordinator.forAttempt(attemptId);
    expectReportsInOrder(reports);
    expect(reports.find((r) => r.type === 'finished')).toMatchObject({ cancelled: true, timedOut: false });
    expect(reports.filter((r) => r.type === 'started')).toHaveLength(1);
  });

  it('on stop(), kills the running step, reports worker-stopped, and resolves', async () => {
    const attemptId = coordinator.assign(job([step('long', 'sleep 300')]));
    start();
    await coordinator.waitFor((reports) => reports.some((r) => r.type === 'started'));
    await worker.stop();
    await worker.done;
    expect(await coordinator.result(attemptId)).toMatchObject({ result: 'exception', reason: 'worker-stopped' });
  });

  it('keeps every report through a coordinator outage and delivers them in order once it is back', async () => {
    const attemptId = coordinator.assign(
      job([
        step('wait', 'echo before; while [ ! -e release ]; do sleep 0.05; done; echo after'),
        step('next', 'echo done'),
      ]),
    );
    start();
    await coordinator.waitFor(() => coordinator.log(attemptId, 0).stdout === 'before\n');
    coordinator.down = true;
    await writeFile(join(workDir, 'jobs', '7-1', 'src', 'release'), '');
    // The steps end meanwhile, so their reports pile up behind requests that keep failing.
    await coordinator.waitForRefusals(8);
    coordinator.down = false;
    expect(await coordinator.result(attemptId)).toMatchObject({ result: 'success' });
    const reports = coordinator.forAttempt(attemptId);
    expectReportsInOrder(reports);
    expect(coordinator.log(attemptId, 0).stdout).toBe('before\nafter\n');
    expect(coordinator.log(attemptId, 1).stdout).toBe('done\n');
  });

  it('on stop(), resolves within its report timeout even when the coordinator is away', async () => {
    const attemptId = coordinator.assign(job([step('long', 'echo running; sleep 300')]));
    start();
    await coordinator.waitFor(() => coordinator.log(attemptId, 0).stdout === 'running\n');
    coordinator.down = true;
    await worker.stop();
    expect(coordinator.forAttempt(attemptId).some((r) => r.type === 'attempt')).toBe(false);
  });

  it('on lease-lost, kills the step at once, reports nothing more, and claims the next job', async () => {
    const lost = coordinator.assign(job([step('long', 'sleep 300 & echo $!; wait')]));
    start({ killGraceMs: 60_000 });
    await coordinator.waitFor(() => coordinator.log(lost, 0).stdout.endsWith('\n'));
    const grandchild = Number(coordinator.log(lost, 0).stdout.trim());
    coordinator.takeLease(lost);
    const next = coordinator.assign(job([step('quick', 'echo next')], { id: 8 }));
    expect(await coordinator.result(next)).toMatchObject({ result: 'success' });
    expect(await diesWithin(grandchild, 2000)).toBe(true);
    expect(coordinator.forAttempt(lost).filter((r) => r.type === 'finished' || r.type === 'attempt')).toEqual([]);
  });

  it('gives the attempt up as lost-contact when no heartbeat is acknowledged for most of the lease', async () => {
    coordinator.heartbeatsLost = true;
    const attemptId = coordinator.assign(job([step('long', 'sleep 300')]), { leaseSeconds: 3 });
    start();
    expect(await coordinator.result(attemptId)).toMatchObject({ result: 'exception', reason: 'lost-contact' });
    expect(coordinator.forAttempt(attemptId).find((r) => r.type === 'finished')).toMatchObject({ cancelled: true });
    expect(coordinator.heartbeats).toBeGreaterThan(0);
  });

  it('says coordinator-unavailable instead when the coordinator answered that it could not take them', async () => {
    coordinator.heartbeatsFailing = true;
    const attemptId = coordinator.assign(job([step('long', 'sleep 300')]), { leaseSeconds: 3 });
    start();
    expect(await coordinator.result(attemptId)).toMatchObject({
      result: 'exception',
      reason: 'coordinator-unavailable',
      message: expect.stringContaining('(the coordinator was away)'),
    });
  });

  it('keeps only the most recent job directory', async () => {
    const first = coordinator.assign(job([step('one', 'echo one > out.txt')]));
    start();
    await coordinator.result(first);
    const second = coordinator.assign(job([step('two', 'echo two > out.txt')], { id: 8, revision: secondCommit }));
    await coordinator.result(second);
    // The worker prunes before it claims again.
    await coordinator.waitForClaims(coordinator.claims.length + 1);
    expect(await readdir(join(workDir, 'jobs'))).toEqual(['8-1']);
  });
});

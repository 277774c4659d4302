import type { JobDetail } from '@switchyard/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASES, TestDatabases } from '../helpers/databases.ts';
import { collectEvents, waitForPushFinal } from '../helpers/events.ts';
import { TestFarm } from '../helpers/farm.ts';
import { killAll, startServer, startWorker, type TestServer } from '../helpers/processes.ts';

const CONFIG = `
repos:
  - name: demo
    url: $REPO
builders:
  - name: build-linux
    repo: demo
    pool: linux
    branches: ["main", "release/*"]
    steps:
      - name: compile
        run: ./build.sh
        env: { MODE: opt }
        timeout: 600
  - name: test-unit
    repo: demo
    pool: linux
    after: build-linux
    steps:
      - name: unit
        run: ./test.sh unit
  - name: test-lint
    repo: demo
    pool: linux
    after: build-linux
    checkout: false
    steps:
      - name: env
        run: pwd; ls -A | wc -l; echo "job=$SWITCHYARD_JOB_ID builder=$SWITCHYARD_BUILDER rev=$SWITCHYARD_REVISION branch=$SWITCHYARD_BRANCH"
`;

const BUILD = `#!/bin/sh
echo "building in mode $MODE"
echo "a warning" >&2
test -f fail-build && { echo "compile error" >&2; exit 3; }
mkdir -p out && echo built > out/app.txt
`;
const TEST = '#!/bin/sh\necho "running $1 tests on $SWITCHYARD_BRANCH"\n';

describe.each(DATABASES)('a push runs its builders on real workers (%s)', (kind) => {
  const farm = new TestFarm();
  const databases = new TestDatabases(kind);
  let server: TestServer;

  beforeAll(async () => {
    farm.writeConfig(CONFIG);
    farm.commit('main', { 'build.sh': BUILD, 'test.sh': TEST }, 'first');
    server = await startServer({ config: farm.config, data: farm.data, database: await databases.fresh() });
    for (const name of ['w1', 'w2']) {
      startWorker({ server: server.url, name, pool: 'linux', workDir: farm.workerDir(name) });
    }
  });

  afterAll(async () => {
    await killAll();
    await databases.dropAll();
    farm.remove();
  });

  it('runs the build, then the tests that wait for it', async () => {
    const revision = farm.commit('main', { 'README.md': 'hello\n' }, 'second');
    const push = await server.client.createPush({
      repo: 'demo',
      branch: 'main',
      revision,
      author: 'Ada <ada@example.org>',
    });
    expect(push.jobs.map((j) => [j.builder, j.state])).toEqual([
      ['build-linux', 'pending'],
      ['test-unit', 'waiting'],
      ['test-lint', 'waiting'],
    ]);
    const done = await waitForPushFinal(server.client, push.id);
    expect(done.jobs.map((j) => j.state)).toEqual(['success', 'success', 'success']);

    const jobs = await Promise.all(done.jobs.map((j) => server.client.getJob(j.id)));
    const [build, unit, lint] = jobs as [JobDetail, JobDetail, JobDetail];
    expect(Date.parse(unit.startedAt as string)).toBeGreaterThanOrEqual(Date.parse(build.finishedAt as string));
    expect(Date.parse(lint.startedAt as string)).toBeGreaterThanOrEqual(Date.parse(build.finishedAt as string));
    expect(build.attempts).toHaveLength(1);
    expect(build.attempts[0]?.steps.map((s) => [s.name, s.state, s.exitCode])).toEqual([
      ['checkout', 'success', 0],
      ['compile', 'success', 0],
    ]);
    expect(build.author).toBe('Ada <ada@example.org>');

    let log = '';
    for await (const chunk of server.client.log(build.id)) log += Buffer.from(chunk).toString();
    expect(log).toContain('building in mode opt');
    expect(log).toContain('a warning');
    let stderr = '';
    for await (const chunk of server.client.log(build.id, { stream: 'stderr' }))
      stderr += Buffer.from(chunk).toString();
    expect(stderr).toBe('a warning\n');

    let lintLog = '';
    for await (const chunk of server.client.log(lint.id, { stream: 'stdout' }))
      lintLog += Buffer.from(chunk).toString();
    const lines = lintLog.trim().split('\n');
    expect(lines[1]).toBe('0'); // checkout: false runs in an empty directory
    expect(lines[2]).toBe(`job=${lint.id} builder=test-lint rev=${revision} branch=main`);
  });

  it('skips the tests when the build fails', async () => {
    const revision = farm.commit('main', { 'fail-build': 'yes\n' }, 'broken');
    const push = await server.client.createPush({ repo: 'demo', branch: 'main', revision });
    const done = await waitForPushFinal(server.client, push.id);
    expect(done.jobs.map((j) => j.state)).toEqual(['failure', 'skipped', 'skipped']);
    const unit = await server.client.getJob(done.jobs[1]?.id as number);
    expect(unit.reason).toBe('dependency build-linux ended in failure');
    expect(unit.attempts).toHaveLength(0);
    const build = await server.client.getJob(done.jobs[0]?.id as number);
    expect(build.attempts[0]?.steps.at(-1)).toMatchObject({ name: 'compile', state: 'failure', exitCode: 3 });
  });

  it('creates no job for a branch no builder watches, and skips dependents of a filtered build', async () => {
    const revision = farm.commit('feature/x', { 'feature.txt': 'x\n' }, 'feature');
    const push = await server.client.createPush({ repo: 'demo', branch: 'feature/x', revision });
    expect(push.jobs.map((j) => [j.builder, j.state])).toEqual([
      ['test-unit', 'skipped'],
      ['test-lint', 'skipped'],
    ]);
  });

  it('retriggers a finished job as a new job of the same push', async () => {
    const [push] = await server.client.listPushes({ branch: 'main', limit: 1 });
    const failed = push?.jobs[0];
    expect(failed).toMatchObject({ builder: 'build-linux', state: 'failure' });
    const retry = await server.client.retriggerJob(failed?.id as number);
    expect(retry).toMatchObject({ pushId: push?.id, builder: 'build-linux', retriggeredFrom: failed?.id });
    // Only a finished job can be retriggered.
    await expect(server.client.retriggerJob(retry.id)).rejects.toMatchObject({ status: 409, code: 'conflict' });
    const events = await collectEvents(server.client, (seen) => seen.some((e) => e.type === 'job.finished'), {
      job: retry.id,
    });
    expect(events.map((e) => e.type)).toEqual([
      'job.pending',
      'job.started',
      'step.started',
      'step.finished',
      'step.started',
      'step.finished',
      'attempt.finished',
      'job.finished',
    ]);
    expect(events.at(-1)?.data).toMatchObject({ job: { state: 'failure' } });
  });

  it('serves its OpenAPI document and Prometheus metrics', async () => {
    const openapi = (await (await fetch(`${server.url}/api/openapi.json`)).json()) as {
      openapi: string;
      paths: Record<string, Record<string, { operationId?: string }>>;
    };
    expect(openapi.openapi).toBe('3.0.3');
    const operations = Object.values(openapi.paths).flatMap((methods) =>
      Object.values(methods).map((o) => o.operationId),
    );
    expect(operations.sort()).toEqual(
      [
        'appendLog',
        'artifactStats',
        'attemptFinished',
        'collectArtifacts',
        'getArtifact',
        'getBlob',
        'jobInputs',
        'listArtifacts',
        'uploadArtifact',
        'uploadTool',
        'getTool',
        'listTools',
        'deleteTool',
        'cancelJob',
        'claimWork',
        'createPush',
        'getJob',
        'getJobLog',
        'getJobLogIndex',
        'getJobLogLines',
        'followJobLog',
        'searchJobLog',
        'getSimilarJobs',
        'getQueue',
        'getSession',
        'signIn',
        'signOut',
        'getPush',
        'heartbeat',
        'listJobs',
        'listPushes',
        'listWorkers',
        'releaseWorkerCredential',
        'reportAttempt',
        'retriggerJob',
        'serverInfo',
        'stepFinished',
        'stepStarted',
        'streamEvents',
        'streamEventsWebSocket',
        'listEventSchemas',
        'getEventSchema',
        'createSubscription',
        'listSubscriptions',
        'getSubscription',
        'deleteSubscription',
        'listDeliveries',
        'redeliver',
        'lastGreen',
        'pushTimes',
        'waitTimes',
        'builderStats',
        'workerUtilisation',
        'takeCpuProfile',
        'takeHeapSnapshot',
        'listReplicas',
        'health',
        'ready',
      ].sort(),
    );
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(
      /^switchyard_http_requests_total\{method="POST",route="\/api\/v1\/pushes",status="201"\} \d+$/m,
    );
    expect(metrics).toMatch(/^switchyard_jobs\{state="success",pool="linux"\} \d+$/m);
    expect(metrics).toMatch(/^switchyard_jobs\{state="skipped",pool="linux"\} \d+$/m);
  });

  it('lists workers with their state', async () => {
    const workers = await server.client.listWorkers();
    expect(workers.map((w) => [w.name, w.pool])).toEqual([
      ['w1', 'linux'],
      ['w2', 'linux'],
    ]);
    for (const worker of workers) expect(['idle', 'busy']).toContain(worker.state);
  });
});

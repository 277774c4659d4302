import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SwitchyardClient } from '@switchyard/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectEvents, waitForPushFinal } from '../helpers/events.ts';
import { TestFarm } from '../helpers/farm.ts';
import { killAll, runSwitchyard, startServer, startWorker, type TestServer } from '../helpers/processes.ts';
import { type CpuProfile, functionsOf, readCpuProfile, readHeapSnapshot } from '../helpers/profiles.ts';

const TOKENS = { T_WORKER: 'worker-secret', T_CI: 'ci-secret', T_ADMIN: 'admin-secret' };

describe('the coordinator profiles itself', () => {
  const farm = new TestFarm();
  const release = join(farm.dir, 'release-the-build');
  let server: TestServer;
  let admin: SwitchyardClient;
  let pusher: SwitchyardClient;
  let revision: string;

  beforeAll(async () => {
    farm.writeConfig(`
repos: [{ name: demo, url: $REPO }]
builders:
  - name: build
    repo: demo
    pool: linux
    branches: [main]
    steps:
      - name: compile
        run: while [ ! -e "${release}" ]; do sleep 0.1; done; echo built
auth:
  public_read: false
  tokens:
    - { name: workers, env: T_WORKER, scopes: [worker] }
    - { name: ci, env: T_CI, scopes: [push, read] }
    - { name: ops, env: T_ADMIN, scopes: [admin] }
`);
    revision = farm.commit('main', { 'README.md': 'hello\n' }, 'first');
    server = await startServer({ config: farm.config, data: farm.data, env: TOKENS, token: TOKENS.T_CI });
    admin = new SwitchyardClient({ server: server.url, token: TOKENS.T_ADMIN });
    pusher = server.client;
    startWorker({
      server: server.url,
      name: 'w1',
      pool: 'linux',
      workDir: farm.workerDir('w1'),
      env: { SWITCHYARD_TOKEN: TOKENS.T_WORKER },
    });
  });

  afterAll(async () => {
    await killAll();
    farm.remove();
  });

  const profile = (args: string[], token = TOKENS.T_ADMIN) =>
    runSwitchyard(['profile', '--server', server.url, ...args], { SWITCHYARD_TOKEN: token });

  it('takes a CPU profile during a push, while its job runs, that names the coordinator’s own functions', async () => {
    const push = await pusher.createPush({ repo: 'demo', branch: 'main', revision });
    const job = push.jobs[0]?.id as number;
    await collectEvents(pusher, (seen) => seen.some((event) => event.type === 'step.started'), { job });

    const out = join(farm.dir, 'coordinator.cpuprofile');
    const taking = profile(['--seconds', '3', '--out', out]);
    // Work for the coordinator while it samples: pushes (planned, written, announced) and reads.
    let requests = 0;
    while (taking.child.exitCode === null && requests < 2000) {
      await Promise.all([
        pusher.createPush({ repo: 'demo', branch: `load/${requests}`, revision }),
        pusher.listPushes(),
        pusher.getJob(job),
        pusher.queue(),
      ]);
      requests += 4;
    }
    expect(await taking.exited, taking.output()).toBe(0);
    expect(taking.output()).toContain(out);

    const own = functionsOf(readCpuProfile(out), '/packages/coordinator/src/');
    expect(own.length, 'functions sampled from packages/coordinator/src').toBeGreaterThan(0);
    expect((await pusher.getJob(job)).state).toBe('running');

    writeFileSync(release, '');
    const done = await waitForPushFinal(pusher, push.id);
    expect(done.jobs.map((j) => j.state)).toEqual(['success']);
  });

  it('takes a heap snapshot that Chrome DevTools reads', { timeout: 180_000 }, async () => {
    const out = join(farm.dir, 'coordinator.heapsnapshot');
    const taking = profile(['--heap', '--out', out]);
    expect(await taking.exited, taking.output()).toBe(0);
    const strings = readHeapSnapshot(out);
    // The coordinator's own objects are in it, by their class names.
    expect(strings).toContain('ClaimBroker');
  });

  it('is for admins only', async () => {
    const withoutAdmin = profile(['--seconds', '1', '--out', join(farm.dir, 'refused.cpuprofile')], TOKENS.T_CI);
    expect(await withoutAdmin.exited).toBe(1);
    expect(withoutAdmin.output()).toContain('HTTP 403 forbidden');
    expect(withoutAdmin.output()).toContain('lacks the "admin" scope');

    const anonymous = await fetch(`${server.url}/_profile/cpu?seconds=1`, { method: 'POST' });
    expect(anonymous.status).toBe(401);
    const reader = await fetch(`${server.url}/_profile/heap`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKENS.T_CI}` },
    });
    expect(reader.status).toBe(403);
  });

  it.each(['0', '301', '1.5', '1e1', 'soon'])('refuses seconds=%s with 400', async (seconds) => {
    const response = await fetch(`${server.url}/_profile/cpu?seconds=${seconds}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKENS.T_ADMIN}` },
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('invalid-request');
  });

  it('takes one profile at a time: a second is refused with 409 while the first runs', async () => {
    const asAdmin = { authorization: `Bearer ${TOKENS.T_ADMIN}` };
    // The answer's headers come when sampling starts; it runs until its 300 s are up or its client leaves.
    const leave = new AbortController();
    const first = await fetch(`${server.url}/_profile/cpu?seconds=300`, {
      method: 'POST',
      headers: asAdmin,
      signal: leave.signal,
    });
    expect(first.status).toBe(200);
    expect(first.headers.get('content-disposition')).toMatch(
      /^attachment; filename="switchyard-coordinator-.*\.cpuprofile"$/,
    );

    const second = profile(['--heap', '--out', join(farm.dir, 'second.heapsnapshot')]);
    expect(await second.exited).toBe(1);
    expect(second.output()).toContain('HTTP 409 conflict');
    expect(second.output()).toContain('a CPU profile of this process is being taken');

    // Its client gone, the coordinator stops sampling and takes the next one.
    leave.abort();
    let third = await fetch(`${server.url}/_profile/cpu?seconds=1`, { method: 'POST', headers: asAdmin });
    for (let tries = 0; third.status === 409 && tries < 100; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      third = await fetch(`${server.url}/_profile/cpu?seconds=1`, { method: 'POST', headers: asAdmin });
    }
    expect(third.status).toBe(200);
    const body = JSON.parse(await third.text()) as CpuProfile;
    expect(body.samples.length).toBe(body.timeDeltas.length);
  });

  it('counts each route under its pattern, long polls apart, with the process metrics', async () => {
    await admin.getJob(1);
    const text = await (
      await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${TOKENS.T_CI}` } })
    ).text();
    expect(text).toMatch(
      /^switchyard_http_request_duration_seconds_count\{method="GET",route="\/api\/v1\/jobs\/:id",status_class="2xx"\} \d+$/m,
    );
    expect(text).toMatch(
      /^switchyard_http_long_request_duration_seconds_count\{method="POST",route="\/_profile\/heap",status_class="4xx"\} \d+$/m,
    );
    expect(text).toMatch(
      /^switchyard_http_long_request_duration_seconds_count\{method="POST",route="\/api\/v1\/workers\/:name\/claim",status_class="2xx"\} \d+$/m,
    );
    expect(text).toMatch(
      /^switchyard_http_long_request_duration_seconds_count\{method="POST",route="\/_profile\/cpu",status_class="2xx"\} \d+$/m,
    );
    expect(text).not.toMatch(
      /^switchyard_http_request_duration_seconds_count\{[^}]*route="\/api\/v1\/workers\/:name\/claim"/m,
    );
    expect(text).not.toMatch(/route="\/api\/v1\/jobs\/1"/);
    for (const name of [
      'switchyard_nodejs_eventloop_lag_seconds',
      'switchyard_nodejs_eventloop_lag_p99_seconds',
      'switchyard_nodejs_gc_duration_seconds',
      'switchyard_nodejs_heap_size_used_bytes',
      'switchyard_nodejs_active_handles',
      'switchyard_process_resident_memory_bytes',
    ]) {
      expect(text, name).toMatch(new RegExp(`^# TYPE ${name} `, 'm'));
    }
  });
});

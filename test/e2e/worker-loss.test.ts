import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DATABASES, TestDatabases } from '../helpers/databases.ts';
import { collectEvents, waitForPushFinal } from '../helpers/events.ts';
import { TestFarm } from '../helpers/farm.ts';
import { diesWithin, killQuietly, waitUntil } from '../helpers/pids.ts';
import { killAll, startServer, startWorker } from '../helpers/processes.ts';

describe.each(DATABASES)('a worker killed in the middle of a step (%s)', (kind) => {
  const farm = new TestFarm();
  const databases = new TestDatabases(kind);
  const marks = join(farm.dir, 'marks');
  mkdirSync(marks);

  afterAll(async () => {
    await killAll();
    for (const file of readdirSync(marks)) killQuietly(Number(readFileSync(join(marks, file), 'utf8')));
    await databases.dropAll();
    farm.remove();
  });

  it('loses its lease, and the job completes on another worker in a second attempt', async () => {
    farm.writeConfig(`
repos: [{ name: demo, url: $REPO }]
server: { lease_seconds: 5 }
builders:
  - name: slow
    repo: demo
    pool: linux
    checkout: false
    steps:
      - name: work
        run: |
          echo $$ > ${marks}/pid-$MARK-$SWITCHYARD_JOB_ID-$SWITCHYARD_ATTEMPT
          echo "attempt $SWITCHYARD_ATTEMPT working"
          if [ "$SWITCHYARD_ATTEMPT" = 1 ]; then sleep 120; else sleep 1; fi
          echo finished
`);
    const revision = farm.commit('main', { 'a.txt': 'a\n' });
    const server = await startServer({ config: farm.config, data: farm.data, database: await databases.fresh() });
    // Steps inherit the worker's environment; MARK names this test's pid files.
    const mark = 'lost';
    const env = { MARK: mark };
    const first = startWorker({
      server: server.url,
      name: 'doomed',
      pool: 'linux',
      workDir: farm.workerDir('doomed'),
      env,
    });
    const push = await server.client.createPush({ repo: 'demo', branch: 'main', revision });
    const jobId = push.jobs[0]?.id as number;

    await collectEvents(server.client, (seen) => seen.some((e) => e.type === 'step.started'), { job: jobId });
    await waitUntil(
      () => existsSync(join(marks, `pid-${mark}-${jobId}-1`)),
      10_000,
      'the first attempt to start its step',
    );
    // Let its first output reach the coordinator (the worker flushes every 250 ms), then kill it.
    const logOf = async (attempt?: number) => {
      let text = '';
      for await (const chunk of server.client.log(jobId, { stream: 'stdout', attempt })) {
        text += Buffer.from(chunk).toString();
      }
      return text;
    };
    for (let tries = 0; (await logOf(1)) === '' && tries < 100; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(await first.kill('SIGKILL')).toBe('SIGKILL');
    // The dead worker's step does not run on beside the next attempt: its watchdog kills it.
    expect(await diesWithin(Number(readFileSync(join(marks, `pid-${mark}-${jobId}-1`), 'utf8')), 5000)).toBe(true);

    startWorker({ server: server.url, name: 'rescuer', pool: 'linux', workDir: farm.workerDir('rescuer'), env });
    const done = await waitForPushFinal(server.client, push.id);
    expect(done.jobs[0]?.state).toBe('success');

    const job = await server.client.getJob(jobId);
    expect(job.attemptCount).toBe(2);
    const [lost, rescued] = job.attempts;
    expect(lost).toMatchObject({ number: 1, worker: 'doomed', state: 'exception', reason: 'worker-lost' });
    expect(rescued).toMatchObject({ number: 2, worker: 'rescuer', state: 'success' });
    // Each attempt keeps its own log; the latest is the default.
    expect(await logOf(1)).toBe('attempt 1 working\n');
    expect(await logOf(2)).toBe('attempt 2 working\nfinished\n');
    expect(await logOf()).toBe(await logOf(2));
    // Never twice at once: the second attempt began only after the first one's lease ran out.
    expect(Date.parse(rescued?.startedAt as string)).toBeGreaterThanOrEqual(Date.parse(lost?.finishedAt as string));

    const events = await collectEvents(server.client, (seen) => seen.some((e) => e.type === 'worker.disconnected'));
    const disconnected = events.find((e) => e.type === 'worker.disconnected');
    expect(disconnected?.data).toMatchObject({ worker: { name: 'doomed', state: 'offline' } });
    const jobEvents = await collectEvents(server.client, (seen) => seen.some((e) => e.type === 'job.finished'), {
      job: jobId,
    });
    expect(jobEvents.map((e) => e.type)).toEqual([
      'job.pending',
      'job.started',
      'step.started',
      'attempt.finished',
      'job.pending',
      'job.started',
      'step.started',
      'step.finished',
      'attempt.finished',
      'job.finished',
    ]);
  });

  it('a worker restarted under the same name waits out its old lease instead of racing its old step', async () => {
    const server = await startServer({
      config: farm.config,
      data: `${farm.data}-restart`,
      database: await databases.fresh(),
    });
    const revision = farm.commit('main', { 'b.txt': 'b\n' });
    const workDir = farm.workerDir('phoenix');
    const mark = 'phoenix';
    const env = { MARK: mark };
    const first = startWorker({ server: server.url, name: 'phoenix', pool: 'linux', workDir, env });
    const push = await server.client.createPush({ repo: 'demo', branch: 'main', revision });
    const jobId = push.jobs[0]?.id as number;
    await waitUntil(
      () => existsSync(join(marks, `pid-${mark}-${jobId}-1`)),
      20_000,
      'the first attempt to start its step',
    );
    await first.kill('SIGKILL');
    startWorker({ server: server.url, name: 'phoenix', pool: 'linux', workDir, env });

    const done = await waitForPushFinal(server.client, push.id);
    expect(done.jobs[0]?.state).toBe('success');
    const job = await server.client.getJob(jobId);
    const [lost, again] = job.attempts;
    expect(lost).toMatchObject({ worker: 'phoenix', state: 'exception', reason: 'worker-lost' });
    expect(again).toMatchObject({ worker: 'phoenix', state: 'success' });
    expect(Date.parse(again?.startedAt as string)).toBeGreaterThanOrEqual(Date.parse(lost?.finishedAt as string));
  });
});

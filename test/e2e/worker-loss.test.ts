import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { collectEvents, waitForPushFinal } from '../helpers/events.ts';
import { TestFarm } from '../helpers/farm.ts';
import { killQuietly, waitUntil } from '../helpers/pids.ts';
import { killAll, startServer, startWorker } from '../helpers/processes.ts';

describe('a worker killed in the middle of a step', () => {
  const farm = new TestFarm();
  const marks = join(farm.dir, 'marks');
  mkdirSync(marks);

  afterAll(async () => {
    await killAll();
    for (const attempt of [1, 2]) {
      const file = join(marks, `pid-${attempt}`);
      if (existsSync(file)) killQuietly(Number(readFileSync(file, 'utf8')));
    }
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
        run: echo $$ > ${marks}/pid-$SWITCHYARD_ATTEMPT; echo "attempt $SWITCHYARD_ATTEMPT working"; sleep 3; echo finished
`);
    const revision = farm.commit('main', { 'a.txt': 'a\n' });
    const server = await startServer({ config: farm.config, data: farm.data });
    const first = startWorker({ server: server.url, name: 'doomed', pool: 'linux', workDir: farm.workerDir('doomed') });
    const push = await server.client.createPush({ repo: 'demo', branch: 'main', revision });
    const jobId = push.jobs[0]?.id as number;

    await collectEvents(server.client, (seen) => seen.some((e) => e.type === 'step.started'), { job: jobId });
    await waitUntil(() => existsSync(join(marks, 'pid-1')), 10_000, 'the first attempt to start its step');
    expect(await first.kill('SIGKILL')).toBe('SIGKILL');

    startWorker({ server: server.url, name: 'rescuer', pool: 'linux', workDir: farm.workerDir('rescuer') });
    const done = await waitForPushFinal(server.client, push.id);
    expect(done.jobs[0]?.state).toBe('success');

    const job = await server.client.getJob(jobId);
    expect(job.attemptCount).toBe(2);
    const [lost, rescued] = job.attempts;
    expect(lost).toMatchObject({ number: 1, worker: 'doomed', state: 'exception', reason: 'worker-lost' });
    expect(rescued).toMatchObject({ number: 2, worker: 'rescuer', state: 'success' });
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
});

import { encodeFrame } from '@switchyard/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitForPushFinal } from '../helpers/events.ts';
import { TestFarm } from '../helpers/farm.ts';
import { killAll, startServer, startWorker, type TestServer } from '../helpers/processes.ts';

/** How many requests the coordinator answered on one route, from its Prometheus metrics. */
async function requestsTo(server: TestServer, route: string): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  return text
    .split('\n')
    .filter((line) => line.startsWith(`switchyard_http_requests_total{method="POST",route="${route}",`))
    .reduce((sum, line) => sum + Number(line.split(' ')[1]), 0);
}

async function logBytesSoFar(server: TestServer): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('switchyard_log_bytes_total'));
  return Number(line?.split(' ')[1] ?? 0);
}

async function readAll(iterable: AsyncIterable<Uint8Array>): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of iterable) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks).toString();
}

describe('an attempt’s reports, batched, beside workers that report one at a time', () => {
  const farm = new TestFarm();
  let server: TestServer;
  let revision: string;

  beforeAll(async () => {
    farm.writeConfig(`
repos: [{ name: demo, url: $REPO }]
builders:
  - name: quick
    repo: demo
    pool: linux
    checkout: false
    steps:
      - { name: hello, run: 'echo hello; echo oops >&2' }
      - { name: again, run: 'echo again' }
`);
    revision = farm.commit('main', { 'a.txt': 'a\n' });
    server = await startServer({ config: farm.config, data: farm.data });
  });

  afterAll(async () => {
    await killAll();
    farm.remove();
  });

  it('a worker delivers an attempt’s end with its next claim; the job, its steps and its log are complete', async () => {
    const logBytesBefore = await logBytesSoFar(server);
    const worker = startWorker({ server: server.url, name: 'w1', pool: 'linux', workDir: farm.workerDir('w1') });
    for (let i = 0; i < 3; i++) {
      const push = await server.client.createPush({ repo: 'demo', branch: 'main', revision });
      const final = await waitForPushFinal(server.client, push.id);
      expect(final.jobs.map((job) => job.state)).toEqual(['success']);
      const jobId = push.jobs[0]?.id as number;
      const detail = await server.client.getJob(jobId);
      const steps = detail.attempts[0]?.steps ?? [];
      expect(steps.map((step) => [step.name, step.state, step.exitCode])).toEqual([
        ['hello', 'success', 0],
        ['again', 'success', 0],
      ]);
      expect(await readAll(server.client.log(jobId, { stream: 'stdout' }))).toBe('hello\nagain\n');
      expect(await readAll(server.client.log(jobId, { stream: 'stderr' }))).toBe('oops\n');
    }
    // Every attempt's end went with the claim that followed it, never alone.
    expect(await requestsTo(server, '/api/v1/attempts/:id/finished')).toBe(0);
    // Log batches that came inside reports are counted as the ones sent alone are.
    expect((await logBytesSoFar(server)) - logBytesBefore).toBeGreaterThan(3 * 'hello\nagain\noops\n'.length);
    await worker.kill();
  });

  it('an older worker reporting one message per request still runs its job to the end', async () => {
    const push = await server.client.createPush({ repo: 'demo', branch: 'main', revision });
    const jobId = push.jobs[0]?.id as number;
    const assignment = await server.client.claim('old-worker', { pool: 'linux', waitSeconds: 10 });
    if (!assignment) throw new Error('the older worker was given no work');
    const { attemptId } = assignment;
    const own = server.client.withToken(assignment.attemptToken);
    const at = () => new Date().toISOString();
    const ended = { exitCode: 0, signal: null, timedOut: false, cancelled: false };
    await own.stepStarted(attemptId, 0, { name: 'hello', startedAt: at() });
    await own.appendLog(attemptId, 0, 0, encodeFrame('stdout', Buffer.from('hello\n')));
    await own.stepFinished(attemptId, 0, { ...ended, finishedAt: at() });
    await own.stepStarted(attemptId, 1, { name: 'again', startedAt: at() });
    await own.appendLog(attemptId, 1, 0, encodeFrame('stdout', Buffer.from('again\n')));
    await own.stepFinished(attemptId, 1, { ...ended, finishedAt: at() });
    await own.attemptFinished(attemptId, { result: 'success', finishedAt: at() });
    const final = await waitForPushFinal(server.client, push.id);
    expect(final.jobs.map((job) => job.state)).toEqual(['success']);
    expect(await readAll(server.client.log(jobId, { stream: 'stdout' }))).toBe('hello\nagain\n');
  });

  it('a claim carrying a report the coordinator refuses still claims, and says why it was dropped', async () => {
    await server.client.createPush({ repo: 'demo', branch: 'main', revision });
    const assignment = await server.client.claim('late-worker', { pool: 'linux', waitSeconds: 10 });
    if (!assignment) throw new Error('the worker was given no work');
    await server.client
      .withToken(assignment.attemptToken)
      .stepStarted(assignment.attemptId, 0, { name: 'hello', startedAt: new Date().toISOString() });
    const response = await server.client.claimAfterReport('late-worker', {
      pool: 'linux',
      waitSeconds: 0,
      report: {
        attemptId: assignment.attemptId,
        attemptToken: assignment.attemptToken,
        entries: [{ kind: 'step-started', index: 0, name: 'other', startedAt: new Date().toISOString() }],
      },
    });
    expect(response.assignment).toBeNull();
    expect(response.reportRefused?.code).toBe('conflict');
  });
});

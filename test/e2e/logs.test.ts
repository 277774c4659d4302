import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitForPushFinal } from '../helpers/events.ts';
import { TestFarm } from '../helpers/farm.ts';
import { waitUntil } from '../helpers/pids.ts';
import { killAll, startServer, startWorker, type TestServer } from '../helpers/processes.ts';

async function logRequestsSoFar(server: TestServer): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('switchyard_log_requests_total'));
  return Number(line?.split(' ')[1] ?? 0);
}

async function readAll(iterable: AsyncIterable<Uint8Array>): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of iterable) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks).toString();
}

describe('buffered log streaming', () => {
  const farm = new TestFarm();
  let server: TestServer;

  beforeAll(async () => {
    farm.writeConfig(`
repos: [{ name: demo, url: $REPO }]
builders:
  - name: chatty
    repo: demo
    pool: linux
    checkout: false
    steps:
      - name: lines
        run: seq 1 100000; echo "only on stderr" >&2
      - name: slow
        run: for i in 1 2 3 4 5; do echo "tick $i"; sleep 0.3; done
`);
    server = await startServer({ config: farm.config, data: farm.data });
  });

  afterAll(async () => {
    await killAll();
    farm.remove();
  });

  it('delivers 100,000 lines complete and in order in at most 1,000 requests, streams apart', async () => {
    const revision = farm.commit('main', { 'a.txt': 'a\n' });
    const push = await server.client.createPush({ repo: 'demo', branch: 'main', revision });
    const jobId = push.jobs[0]?.id as number;
    // Follow from before the job starts: the response ends when the job does.
    const followed = readAll(server.client.log(jobId, { follow: true, stream: 'stdout' }));
    const before = await logRequestsSoFar(server);
    startWorker({ server: server.url, name: 'w1', pool: 'linux', workDir: farm.workerDir('w1') });
    await waitForPushFinal(server.client, push.id);
    const requests = (await logRequestsSoFar(server)) - before;

    const expected = `${Array.from({ length: 100_000 }, (_, i) => i + 1).join('\n')}\ntick 1\ntick 2\ntick 3\ntick 4\ntick 5\n`;
    const stdout = await readAll(server.client.log(jobId, { stream: 'stdout' }));
    expect(stdout.length).toBe(expected.length);
    expect(stdout === expected).toBe(true);
    expect(await readAll(server.client.log(jobId, { stream: 'stderr' }))).toBe('only on stderr\n');
    expect((await followed) === expected).toBe(true);
    expect(requests).toBeGreaterThan(0);
    expect(requests).toBeLessThanOrEqual(1000);

    const job = await server.client.getJob(jobId);
    expect(job.attempts[0]?.steps.map((s) => s.state)).toEqual(['success', 'success']);
    expect(job.attempts[0]?.steps[0]?.logBytes).toBeGreaterThan(588_895);

    // Once complete, each step's log moves from the database into the log archive, gzipped, and reads the same.
    const archived = () =>
      readdirSync(join(farm.data, 'log-archive'))
        .filter((dir) => /^[0-9a-f]{2}$/.test(dir))
        .flatMap((dir) => readdirSync(join(farm.data, 'log-archive', dir)).map((file) => join(dir, file)));
    // Two steps: each one's log and its line index (step-index.ts).
    await waitUntil(() => archived().length === 4, 15_000, 'the logs to be compacted into the archive');
    const sizes = archived().map((file) => statSync(join(farm.data, 'log-archive', file)).size);
    expect(Math.max(...sizes)).toBeLessThan(588_895 / 2);
    expect((await readAll(server.client.log(jobId, { stream: 'stdout', attempt: 1 }))) === expected).toBe(true);
  });

  it('answers 404 for the log of a job that does not exist', async () => {
    const response = await fetch(`${server.url}/api/v1/jobs/9999/log`);
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ error: { code: 'not-found' } });
  });
});

import { afterAll, describe, expect, it } from 'vitest';
import { DATABASES, TestDatabases } from '../helpers/databases.ts';
import { collectEvents, waitForPushFinal } from '../helpers/events.ts';
import { TestFarm } from '../helpers/farm.ts';
import { freePort, killAll, startServer, startWorker } from '../helpers/processes.ts';

describe.each(DATABASES)('a coordinator that crashes while a job runs (%s)', (kind) => {
  const farm = new TestFarm();
  const databases = new TestDatabases(kind);
  afterAll(async () => {
    await killAll();
    await databases.dropAll();
    farm.remove();
  });

  it('loses no job, result or log line: the worker delivers them once it is back', async () => {
    farm.writeConfig(`
repos: [{ name: demo, url: $REPO }]
server: { lease_seconds: 20 }
builders:
  - name: steady
    repo: demo
    pool: linux
    checkout: false
    steps:
      - name: count
        run: for i in $(seq 1 30); do echo "line $i"; sleep 0.2; done
      - name: after
        run: echo "second step"
`);
    const revision = farm.commit('main', { 'a.txt': 'a\n' });
    const port = await freePort();
    const database = await databases.fresh();
    let server = await startServer({ config: farm.config, data: farm.data, database, port });
    startWorker({ server: server.url, name: 'w1', pool: 'linux', workDir: farm.workerDir('w1') });
    const push = await server.client.createPush({ repo: 'demo', branch: 'main', revision });
    const jobId = push.jobs[0]?.id as number;
    await collectEvents(server.client, (seen) => seen.some((e) => e.type === 'step.started'), { job: jobId });
    await new Promise((resolve) => setTimeout(resolve, 1000));

    expect(await server.kill('SIGKILL')).toBe('SIGKILL');
    await new Promise((resolve) => setTimeout(resolve, 2500));
    server = await startServer({ config: farm.config, data: farm.data, database, port });

    await waitForPushFinal(server.client, push.id);
    const job = await server.client.getJob(jobId);
    expect(job, JSON.stringify(job, null, 1)).toMatchObject({ state: 'success' });
    expect(job.attempts).toHaveLength(1);
    expect(job.attempts[0]?.steps.map((s) => [s.name, s.state])).toEqual([
      ['count', 'success'],
      ['after', 'success'],
    ]);
    let log = '';
    for await (const chunk of server.client.log(jobId, { stream: 'stdout' })) log += Buffer.from(chunk).toString();
    const expected = `${Array.from({ length: 30 }, (_, i) => `line ${i + 1}`).join('\n')}\nsecond step\n`;
    expect(log).toBe(expected);
  });
});

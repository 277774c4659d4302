import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DATABASES, TestDatabases } from '../helpers/databases.ts';
import { waitForPushFinal } from '../helpers/events.ts';
import { TestFarm } from '../helpers/farm.ts';
import { isAlive, killQuietly, waitUntil } from '../helpers/pids.ts';
import { killAll, startServer, startWorker } from '../helpers/processes.ts';

describe.each(DATABASES)('cancelling a running job (%s)', (kind) => {
  const farm = new TestFarm();
  const databases = new TestDatabases(kind);
  const pids = join(farm.dir, 'pids');
  mkdirSync(pids);
  const pidFiles = ['shell', 'child', 'grandchild'].map((name) => join(pids, name));

  afterAll(async () => {
    await killAll();
    for (const file of pidFiles) if (existsSync(file)) killQuietly(Number(readFileSync(file, 'utf8')));
    await databases.dropAll();
    farm.remove();
  });

  it("kills the step's whole process tree and skips what waited for the job", async () => {
    farm.writeConfig(`
repos: [{ name: demo, url: $REPO }]
builders:
  - name: build
    repo: demo
    pool: linux
    checkout: false
    steps:
      - name: tree
        run: |
          echo $$ > ${pids}/shell
          sh -c 'sleep 300 & echo $! > ${pids}/grandchild; wait' &
          echo $! > ${pids}/child
          echo "tree started"
          wait
  - name: test
    repo: demo
    pool: linux
    after: build
    checkout: false
    steps: [{ name: t, run: "true" }]
`);
    const revision = farm.commit('main', { 'a.txt': 'a\n' });
    const server = await startServer({ config: farm.config, data: farm.data, database: await databases.fresh() });
    startWorker({ server: server.url, name: 'w1', pool: 'linux', workDir: farm.workerDir('w1') });
    const push = await server.client.createPush({ repo: 'demo', branch: 'main', revision });
    const [build, test] = push.jobs as unknown as [{ id: number }, { id: number }];

    await waitUntil(
      () => pidFiles.every((f) => existsSync(f) && readFileSync(f, 'utf8').trim() !== ''),
      20_000,
      'the process tree',
    );
    const tree = pidFiles.map((f) => Number(readFileSync(f, 'utf8')));
    expect(tree.every(isAlive)).toBe(true);

    const cancelled = await server.client.cancelJob(build.id);
    expect(cancelled.state).toBe('cancelled');
    const done = await waitForPushFinal(server.client, push.id);
    expect(done.jobs.map((j) => j.state)).toEqual(['cancelled', 'skipped']);
    expect((await server.client.getJob(test.id)).reason).toBe('dependency build ended in cancelled');

    await waitUntil(() => tree.every((pid) => !isAlive(pid)), 15_000, `processes ${tree.join(', ')} to die`);
    const job = await server.client.getJob(build.id);
    expect(job.attempts[0]).toMatchObject({ state: 'cancelled', reason: 'cancelled' });
    expect(job.attempts[0]?.steps[0]).toMatchObject({ name: 'tree', state: 'cancelled' });

    await expect(server.client.cancelJob(build.id)).rejects.toMatchObject({ status: 409, code: 'conflict' });
    const [worker] = await server.client.listWorkers();
    expect(worker).toMatchObject({ name: 'w1', state: 'idle', currentJob: null });
  });
});

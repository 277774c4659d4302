import type { SwitchyardEvent } from '@switchyard/protocol';
import { afterAll, describe, expect, it } from 'vitest';
import { DATABASES, TestDatabases } from '../helpers/databases.ts';
import { collectEvents, waitForPushFinal } from '../helpers/events.ts';
import { TestFarm } from '../helpers/farm.ts';
import { freePort, killAll, startServer, startWorker, type TestServer } from '../helpers/processes.ts';
import { Relay } from '../helpers/relay.ts';

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

describe.each(DATABASES)('a coordinator restarted while artifacts are in flight (%s)', (kind) => {
  const farm = new TestFarm();
  const databases = new TestDatabases(kind);
  let relay: Relay | undefined;
  afterAll(async () => {
    await relay?.close();
    await killAll();
    await databases.dropAll();
    farm.remove();
  });

  // Three coordinator starts, each up to 20 s on a busy machine, and two outages.
  const timeout = 240_000;
  it('costs no attempt and benches no worker: the upload and the fetch ride out the outage', { timeout }, async () => {
    const size = 32 * 1024 * 1024;
    // A lease far longer than the outage, however slowly the coordinator starts on a busy
    // machine: this is about transfers riding one out, not about the worker's fence.
    farm.writeConfig(`
repos: [{ name: demo, url: $REPO }]
server: { lease_seconds: 120 }
builders:
  - name: build
    repo: demo
    pool: linux
    checkout: false
    artifacts: [big.bin]
    steps: [{ name: make, run: head -c ${size} /dev/urandom > big.bin }]
  - name: use
    repo: demo
    pool: linux
    after: build
    checkout: false
    fetch: [{ from: build, artifact: big.bin, to: in }]
    steps: [{ name: size, run: wc -c < in/big.bin }]
`);
    const revision = farm.commit('main', { 'a.txt': 'a\n' });
    const port = await freePort();
    const database = await databases.fresh();
    const start = () => startServer({ config: farm.config, data: farm.data, database, port });
    let server: TestServer = await start();
    relay = await Relay.start(server.url);
    for (const name of ['w1', 'w2']) {
      startWorker({ server: relay.url, name, pool: 'linux', workDir: farm.workerDir(name) });
    }
    // Away for a few seconds, as a restart is: killed part-way through a transfer, back on its port.
    const restartDuring = async (transfer: Promise<void>) => {
      await transfer;
      expect(await server.kill('SIGKILL')).toBe('SIGKILL');
      await new Promise((resolve) => setTimeout(resolve, 3000));
      server = await start();
    };

    const uploading = relay.holdAfter('up', size / 4);
    const push = await server.client.createPush({ repo: 'demo', branch: 'main', revision });
    await restartDuring(uploading);
    await restartDuring(relay.holdAfter('down', size / 4));

    await waitForPushFinal(server.client, push.id);
    for (const { id } of push.jobs) {
      const job = await server.client.getJob(id);
      expect(job, JSON.stringify(job, null, 1)).toMatchObject({ state: 'success', attemptCount: 1 });
    }
    const logOf = async (builder: string, stream: string) => {
      const id = push.jobs.find((job) => job.builder === builder)?.id as number;
      let text = '';
      for await (const chunk of server.client.log(id, { stream })) text += Buffer.from(chunk).toString();
      return text;
    };
    // Both transfers were cut, and tried again rather than failed.
    expect(await logOf('build', 'header')).toMatch(/uploading big\.bin failed \(.*\); trying again/);
    expect(await logOf('use', 'header')).toMatch(/fetching big\.bin failed \(.*\); trying again/);
    expect((await logOf('use', 'stdout')).trim()).toBe(String(size));
    // Every attempt ended before its job did: a bench it caused comes before the last job.finished.
    const finished = (seen: SwitchyardEvent[]) => seen.filter((event) => event.type === 'job.finished').length;
    const seen = await collectEvents(server.client, (events) => finished(events) === push.jobs.length, {
      types: ['worker.benched', 'job.finished'],
    });
    expect(seen.filter((event) => event.type === 'worker.benched')).toEqual([]);
    for (const worker of await server.client.listWorkers()) {
      expect(worker, worker.name).toMatchObject({ exceptionStreak: 0, benchedUntil: null });
    }
  });
});

import type { SwitchyardClient } from '@switchyard/protocol';
import { afterAll, describe, expect, it } from 'vitest';
import { collectEvents, waitForPushFinal } from '../helpers/events.ts';
import { TestFarm } from '../helpers/farm.ts';
import { killAll, startServer, startWorker, type TestProcess } from '../helpers/processes.ts';

const CONFIG = `
repos: [{ name: demo, url: $REPO }]
branches:
  - { match: "release/*", priority: 0 }
  - { match: main, priority: 3 }
  - { match: "try/*", priority: 5 }
builders:
  - { name: build, repo: demo, pool: linux, checkout: false, branches: ["release/*", main, "try/*"], steps: [{ name: compile, run: "sleep \${SLEEP:-0}" }] }
  - { name: talos, repo: demo, pool: perf, checkout: false, branches: [perf], coalesce: latest, steps: [{ name: measure, run: "true" }] }
`;

async function workersIdle(client: SwitchyardClient, names: string[]) {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const workers = await client.listWorkers();
    if (names.every((name) => workers.find((w) => w.name === name)?.state === 'idle')) return;
    if (Date.now() > deadline) throw new Error(`workers ${names.join(', ')} did not become idle`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('scheduling on a live farm', () => {
  const farm = new TestFarm();
  farm.writeConfig(CONFIG);
  const revisions = Array.from({ length: 5 }, (_, i) => farm.commit('main', { 'n.txt': `${i}\n` }));
  let server: Awaited<ReturnType<typeof startServer>>;
  const workers: TestProcess[] = [];

  afterAll(async () => {
    await killAll();
    farm.remove();
  });

  it('runs the most important branch first, then by age, and says why a job waits', async () => {
    server = await startServer({ config: farm.config, data: farm.data });
    const order = ['try/alice', 'main', 'release/1.0', 'try/bob', 'main'];
    const pushes = [];
    for (const [i, branch] of order.entries()) {
      pushes.push(await server.client.createPush({ repo: 'demo', branch, revision: revisions[i] as string }));
    }
    const jobIds = pushes.map((p) => (p.jobs[0] as { id: number }).id);
    const waiting = await server.client.getJob(jobIds[0] as number);
    expect(waiting.priority).toBe(5);
    expect(waiting.scheduling).toMatchObject({
      waitingBecause: 'no worker of pool linux is online; 3 job(s) ahead of it in the queue',
      queuePosition: 4,
    });

    workers.push(startWorker({ server: server.url, name: 'w1', pool: 'linux', workDir: farm.workerDir('w1') }));
    for (const push of pushes) await waitForPushFinal(server.client, push.id);
    const jobs = await Promise.all(jobIds.map((id) => server.client.getJob(id)));
    const started = [...jobs].sort((a, b) => Date.parse(a.startedAt as string) - Date.parse(b.startedAt as string));
    expect(started.map((j) => j.branch)).toEqual(['release/1.0', 'main', 'main', 'try/alice', 'try/bob']);
    expect(started.map((j) => j.id)).toEqual([jobIds[2], jobIds[1], jobIds[4], jobIds[0], jobIds[3]]);
    expect(started[0]?.scheduling.chosenBecause).toContain('first in its pool');
  });

  it('runs only the newest of five queued pushes of a coalescing builder', async () => {
    const pushes = [];
    for (const revision of revisions) {
      pushes.push(await server.client.createPush({ repo: 'demo', branch: 'perf', revision }));
    }
    const ids = pushes.map((p) => (p.jobs[0] as { id: number }).id);
    const newest = ids.at(-1) as number;
    workers.push(startWorker({ server: server.url, name: 'p1', pool: 'perf', workDir: farm.workerDir('p1') }));
    for (const push of pushes) await waitForPushFinal(server.client, push.id);

    const jobs = await Promise.all(ids.map((id) => server.client.getJob(id)));
    expect(jobs.map((j) => [j.state, j.coalescedInto])).toEqual([
      ['coalesced', newest],
      ['coalesced', newest],
      ['coalesced', newest],
      ['coalesced', newest],
      ['success', null],
    ]);
    expect(jobs.map((j) => j.attempts.length)).toEqual([0, 0, 0, 0, 1]);
    expect(jobs[0]?.reason).toContain(`coalesced into job ${newest}`);
    expect(jobs[4]?.scheduling.chosenBecause).toContain('4 coalesced into it');

    const events = await collectEvents(
      server.client,
      (seen) =>
        seen.filter((e) => e.type === 'job.finished' && ids.includes((e.data as { job: { id: number } }).job.id))
          .length === 5,
      { types: ['job.finished'], builder: 'talos' },
    );
    const coalesced = events
      .map((e) => (e.data as { job: { id: number; state: string; coalescedInto: number | null } }).job)
      .filter((job) => job.state === 'coalesced');
    expect(coalesced.map((job) => job.coalescedInto)).toEqual([newest, newest, newest, newest]);
  });

  it('gives the next job to the waiting worker whose caches are warm for it', async () => {
    // w1 built main above and is warm for build/main. Now a second worker, w2, waits longer than
    // w1 does: without affinity the longest-idle worker would get the next job.
    workers.push(startWorker({ server: server.url, name: 'w2', pool: 'linux', workDir: farm.workerDir('w2') }));
    await workersIdle(server.client, ['w1', 'w2']);
    // One more job, which the warm worker takes: it then becomes idle after the other one.
    const first = await server.client.createPush({ repo: 'demo', branch: 'main', revision: revisions[0] as string });
    await waitForPushFinal(server.client, first.id);
    const warmWorker = (await server.client.getJob((first.jobs[0] as { id: number }).id)).worker as string;
    const coldWorker = warmWorker === 'w1' ? 'w2' : 'w1';
    // Wait for the cold one to have been idle the longest, then push: the warm one must win.
    await workersIdle(server.client, ['w1', 'w2']);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const next = await server.client.createPush({ repo: 'demo', branch: 'main', revision: revisions[1] as string });
    await waitForPushFinal(server.client, next.id);
    const job = await server.client.getJob((next.jobs[0] as { id: number }).id);
    expect(job.worker).toBe(warmWorker);
    expect(job.scheduling.chosenBecause).toContain('warm: it last succeeded on build for main');
    const listed = await server.client.listWorkers();
    expect(listed.find((w) => w.name === warmWorker)?.warm[0]).toMatchObject({ builder: 'build', branch: 'main' });
    expect(listed.find((w) => w.name === coldWorker)?.warm ?? []).toEqual([]);
  });
});

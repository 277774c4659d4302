import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ApiRequestError } from '@switchyard/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitForPushFinal } from '../helpers/events.ts';
import { TestFarm } from '../helpers/farm.ts';
import { killAll, startServer, startWorker, type TestServer } from '../helpers/processes.ts';
import { fillDisk, onSmallDisk, seenBy } from '../helpers/small-disk.ts';

/**
 * A coordinator whose data directory is a 16 MiB disk of its own, filled while a job runs: what
 * it refuses meanwhile is a 507 that says so, the worker waits for the space like an outage, and
 * once there is room the job ends as it would have, on its first attempt, with its worker's
 * record clean.
 */
const UPLOAD_ROUTE = 'route="/api/v1/jobs/:id/artifacts/:name"';

function metric(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? 0 : Number(line.slice(name.length + 1));
}

async function metrics(server: TestServer): Promise<string> {
  return (await fetch(`${server.url}/metrics`)).text();
}

describe('a full data directory', () => {
  const farm = new TestFarm();
  const go = join(farm.dir, 'go');
  let server: TestServer;

  beforeAll(async () => {
    farm.commit('main', { 'README.md': 'hello' });
    farm.writeConfig(`
repos: [{ name: demo, url: $REPO }]
# Longer than the test: a worker whose heartbeats are refused gives its attempt up before the lease ends.
server: { lease_seconds: 300 }
builders:
  - name: build
    repo: demo
    pool: linux
    artifacts: [{ path: out.bin }]
    steps:
      - { name: make, run: "while [ ! -e ${go} ]; do sleep 0.1; done; head -c 200000 /dev/urandom > out.bin" }
`);
    mkdirSync(farm.data, { recursive: true });
    server = await startServer({
      config: farm.config,
      data: farm.data,
      launcher: onSmallDisk(farm.data, 16 * 1024 * 1024),
    });
    startWorker({ server: server.url, name: 'w1', pool: 'linux', workDir: farm.workerDir('w1') });
  });

  afterAll(async () => {
    await killAll();
    farm.remove();
  });

  it('answers 507 disk-full, keeps the attempt going, and finishes the job once there is room', async () => {
    const { client } = server;
    const revision = farm.commit('main', { 'a.txt': 'a' });
    const push = await client.createPush({ repo: 'demo', branch: 'main', revision });
    const jobId = push.jobs[0]?.id as number;
    while ((await client.getJob(jobId)).state !== 'running') await new Promise((r) => setTimeout(r, 100));

    const filler = seenBy(server.child.pid as number, join(farm.data, 'filler'));
    fillDisk(filler);

    // Writes are refused once SQLite can no longer grow its log: a push or a few.
    let refusal: unknown;
    for (let n = 0; n < 500 && refusal === undefined; n++) {
      await client
        .createPush({ repo: 'demo', branch: `full-${n}`, revision, message: 'x'.repeat(65536) })
        .catch((error: unknown) => {
          refusal = error;
        });
    }
    expect(refusal).toBeInstanceOf(ApiRequestError);
    expect(refusal).toMatchObject({ status: 507, code: 'disk-full' });
    expect((refusal as ApiRequestError).message).toContain('the data directory is full');

    // The step makes its artifact; its upload is refused, more often than the worker tries a
    // failing transfer before it gives up on it.
    writeFileSync(go, '');
    for (;;) {
      const text = await metrics(server);
      if (metric(text, `switchyard_http_requests_total{method="PUT",${UPLOAD_ROUTE},status="507"}`) >= 6) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    const full = await metrics(server);
    expect(metric(full, 'switchyard_disk_full_refusals_total{source="sqlite"}')).toBeGreaterThan(0);
    expect(metric(full, 'switchyard_disk_full_refusals_total{source="file"}')).toBeGreaterThan(0);
    expect(metric(full, 'switchyard_disk_free_bytes{dir="data"}')).toBeLessThan(1024 * 1024);

    rmSync(filler);
    const finished = await waitForPushFinal(client, push.id, 60_000);
    expect(finished.jobs[0]).toMatchObject({ state: 'success', attemptCount: 1 });
    expect((await client.listArtifacts(jobId)).map((a) => a.name)).toEqual(['out.bin']);
    const [worker] = await client.listWorkers();
    expect(worker).toMatchObject({ name: 'w1', exceptionStreak: 0, benchedUntil: null });

    const after = await metrics(server);
    expect(metric(after, 'switchyard_disk_free_bytes{dir="data"}')).toBeGreaterThan(1024 * 1024);
    expect(after).not.toMatch(/status="500"/);
    expect(server.output()).toContain('refused a request with 507 disk-full');
  });
});

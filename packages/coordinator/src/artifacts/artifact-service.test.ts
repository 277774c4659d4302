import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalBlobStore } from '../blobs/local-blob-store.ts';
import type { Farm } from '../config/farm-config.ts';
import { parseConfig } from '../config/load-config.ts';
import { schedulingPolicy } from '../scheduler/live-policy.ts';
import { openFarmStore } from '../store/open-store.ts';
import type { FarmStore } from '../store/port.ts';
import { ArtifactMetrics } from './artifact-metrics.ts';
import { ArtifactService } from './artifact-service.ts';

const DAY_MS = 24 * 3600 * 1000;

const CONFIG = `repos: [{ name: demo, url: /x }]
builders:
  - { name: build, repo: demo, pool: linux, artifacts: ["*.tar.gz"], steps: [{ name: s, run: "true" }] }
  - { name: test, repo: demo, pool: linux, after: build, fetch: [{ from: build, artifact: app.tar.gz }], steps: [{ name: s, run: "true" }] }
  - name: talos
    repo: demo
    pool: linux
    after: test
    fetch: [{ from: build, artifact: app.tar.gz }, { from: build, artifact: sdk.tar.gz }]
    steps: [{ name: s, run: "true" }]
`;

/** A request body as node:http gives it: `complete` once its end arrived. */
function body(text: string): Readable {
  const stream = new PassThrough() as PassThrough & { complete: boolean };
  stream.complete = true;
  stream.end(Buffer.from(text));
  return stream;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe('ArtifactService', () => {
  let dir: string;
  let store: FarmStore;
  let farm: Farm;
  let now: number;
  let service: ArtifactService;
  let blobs: LocalBlobStore;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'switchyard-artifacts-'));
    farm = parseConfig('farm.yml', CONFIG);
    now = Date.parse('2026-11-26T12:00:00Z');
    store = await openFarmStore(join(dir, 'switchyard.db'), {
      agingMs: () => farm.scheduling.agingMs,
      logger: pino({ level: 'silent' }),
      clock: () => now,
    });
    blobs = new LocalBlobStore(join(dir, 'blobs'));
    await blobs.init();
    const metrics = new ArtifactMetrics(new Registry(), () => store.artifacts.stats());
    service = new ArtifactService(
      store.artifacts,
      blobs,
      store.digestLocks,
      () => farm,
      metrics,
      pino({ level: 'silent' }),
      () => now,
    );
  });

  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Claims the next job as a worker would; returns its id and attempt. */
  const claimNext = async () => {
    await store.workers.checkIn('w1', { pool: 'linux' });
    const assigned = await store.jobs.assignWork('linux', [{ name: 'w1', idleSince: 0 }], schedulingPolicy(farm), {
      leaseMs: 30_000,
      heartbeatSeconds: 10,
    });
    const assignment = assigned.get('w1');
    if (!assignment) throw new Error('no job to claim');
    return { jobId: assignment.job.id, attemptId: assignment.attemptId };
  };

  /** A push, and its build job claimed: running, so that it takes uploads. */
  const runningBuild = async () => {
    await store.pushes.create(farm, { repo: 'demo', branch: 'main', revision: 'abcdef1' });
    return claimNext();
  };

  const finish = (attemptId: number) =>
    store.jobs.attemptFinished(attemptId, { result: 'success', finishedAt: new Date(now).toISOString() });

  const upload = async (
    build: { jobId: number; attemptId: number },
    name: string,
    content: string,
    headers: Record<string, string> = {},
  ) => service.receive(await service.admit(build.jobId, build.attemptId, name, headers), body(content));

  it('stores each content once, however many artifacts name it, and a later upload of a name replaces it', async () => {
    const build = await runningBuild();
    const first = await upload(build, 'app.tar.gz', 'app v1');
    expect(first).toMatchObject({
      deduplicated: false,
      artifact: { jobId: build.jobId, attempt: 1, name: 'app.tar.gz', sha256: sha256('app v1'), size: 6 },
    });
    expect(first.artifact.contentType).toBe('application/gzip');
    expect(first.artifact.expiresAt).toBe(new Date(now + 30 * DAY_MS).toISOString());
    expect((await upload(build, 'copy.tar.gz', 'app v1')).deduplicated).toBe(true);
    expect(await service.records.stats()).toEqual({
      artifacts: 2,
      blobs: 1,
      logicalBytes: 12,
      storedBytes: 6,
      dedupRatio: 2,
    });

    await upload(build, 'app.tar.gz', 'app v2');
    const listed = await service.records.list(build.jobId);
    expect(listed.map((a) => [a.name, a.sha256])).toEqual([
      ['app.tar.gz', sha256('app v2')],
      ['copy.tar.gz', sha256('app v1')],
    ]);
  });

  it('answers from the store when the declared digest is there, and refuses a size that contradicts it', async () => {
    const build = await runningBuild();
    await upload(build, 'app.tar.gz', 'app v1');
    const declared = { 'x-content-sha256': sha256('app v1') };
    const stored = await service.recordIfStored(
      await service.admit(build.jobId, build.attemptId, 'again.tar.gz', declared),
    );
    expect(stored).toMatchObject({ deduplicated: true, artifact: { name: 'again.tar.gz', size: 6 } });
    const unknown = { 'x-content-sha256': sha256('never uploaded') };
    expect(
      await service.recordIfStored(await service.admit(build.jobId, build.attemptId, 'new.tar.gz', unknown)),
    ).toBeNull();
    const wrongSize = { ...declared, 'content-length': '7' };
    await expect(
      service.recordIfStored(await service.admit(build.jobId, build.attemptId, 'odd.tar.gz', wrongSize)),
    ).rejects.toMatchObject({ code: 'invalid-request' });
  });

  it('takes uploads only from the running attempt of an existing job, within the size limit', async () => {
    await expect(service.admit(999, 1, 'a.bin', {})).rejects.toMatchObject({ kind: 'not-found' });
    const build = await runningBuild();
    await expect(
      service.admit(build.jobId, build.attemptId, 'a.bin', { 'content-length': String(9 * 1024 ** 3) }),
    ).rejects.toMatchObject({ code: 'payload-too-large', status: 413 });
    await expect(
      service.admit(build.jobId, build.attemptId, 'a.bin', { 'x-content-sha256': 'abc' }),
    ).rejects.toMatchObject({
      code: 'invalid-request',
    });
    await finish(build.attemptId);
    await expect(service.admit(build.jobId, build.attemptId, 'a.bin', {})).rejects.toMatchObject({
      kind: 'lease-lost',
    });
  });

  it('records nothing, and keeps no blob, when the attempt ended while its body was arriving', async () => {
    const build = await runningBuild();
    const admitted = await service.admit(build.jobId, build.attemptId, 'late.tar.gz', {});
    const arriving = new PassThrough() as PassThrough & { complete: boolean };
    const received = service.receive(admitted, arriving);
    await finish(build.attemptId);
    arriving.complete = true;
    arriving.end(Buffer.from('late bytes'));
    await expect(received).rejects.toMatchObject({ kind: 'lease-lost' });
    expect(await service.records.list(build.jobId)).toEqual([]);
    expect(await service.records.blob(sha256('late bytes'))).toBeUndefined();
    expect(existsSync(blobs.pathOf(sha256('late bytes')))).toBe(false);
  });

  it("resolves a job's fetch entries to the artifacts of the job it waited for, also through another", async () => {
    const push = await store.pushes.create(farm, { repo: 'demo', branch: 'main', revision: 'abcdef1' });
    const [buildId, testId, talosId] = push.jobs.map((j) => j.id) as [number, number, number];
    const build = await claimNext();
    expect(build.jobId).toBe(buildId);
    await upload(build, 'app.tar.gz', 'app');
    await finish(build.attemptId);

    expect(await service.records.inputs(testId)).toEqual([
      {
        from: 'build',
        artifact: 'app.tar.gz',
        job: buildId,
        found: expect.objectContaining({ name: 'app.tar.gz', sha256: sha256('app') }),
        problem: null,
      },
    ]);
    const talos = await service.records.inputs(talosId);
    expect(talos.map((i) => [i.job, i.found?.name ?? null, i.problem])).toEqual([
      [buildId, 'app.tar.gz', null],
      [buildId, null, `job ${buildId} (build, success) uploaded no artifact "sdk.tar.gz"`],
    ]);

    now += 31 * DAY_MS;
    expect((await service.records.inputs(testId))[0]?.problem).toBe(
      `the artifact "app.tar.gz" of job ${buildId} (build, success) expired at 2026-12-26T12:00:00.000Z`,
    );
    expect(await service.records.list(buildId)).toEqual([]);
  });

  it('collects expired artifacts, then the blobs no artifact references, files and rows', async () => {
    const build = await runningBuild();
    await upload(build, 'old.tar.gz', 'shared');
    await upload(build, 'only-old.tar.gz', 'alone');
    now += 20 * DAY_MS;
    await upload(build, 'new.tar.gz', 'shared');
    now += 15 * DAY_MS;

    expect(await service.collect()).toEqual({ expiredArtifacts: 2, deletedBlobs: 1, freedBytes: 5 });
    expect(existsSync(blobs.pathOf(sha256('alone')))).toBe(false);
    expect(existsSync(blobs.pathOf(sha256('shared')))).toBe(true);
    expect(await service.records.blob(sha256('alone'))).toBeUndefined();
    expect((await service.records.list(build.jobId)).map((a) => a.name)).toEqual(['new.tar.gz']);
    expect(await service.collect()).toEqual({ expiredArtifacts: 0, deletedBlobs: 0, freedBytes: 0 });
  });

  it('collects a blob file no row names an hour on, as a crash between its rename and its row leaves', async () => {
    const build = await runningBuild();
    await upload(build, 'kept.tar.gz', 'kept');
    const stray = blobs.pathOf(sha256('stray'));
    mkdirSync(dirname(stray), { recursive: true });
    writeFileSync(stray, 'stray');
    // Just committed, perhaps by another replica still recording its row: kept.
    utimesSync(stray, new Date(now - 10 * 60_000), new Date(now - 10 * 60_000));
    expect(await service.collect()).toEqual({ expiredArtifacts: 0, deletedBlobs: 0, freedBytes: 0 });
    expect(existsSync(stray)).toBe(true);
    utimesSync(stray, new Date(now - 61 * 60_000), new Date(now - 61 * 60_000));
    expect(await service.collect()).toEqual({ expiredArtifacts: 0, deletedBlobs: 1, freedBytes: 5 });
    expect(existsSync(stray)).toBe(false);
    expect(existsSync(blobs.pathOf(sha256('kept')))).toBe(true);
  });
});

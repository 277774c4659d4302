/**
 * Two coordinators on one PostgreSQL farm and one blob store (a shared directory, or a bucket on
 * moto): one's collector and the other's upload of the same content, interleaved at the moments
 * that used to lose the bytes.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { CONTENT_SHA256_HEADER } from '@switchyard/protocol';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Moto, startMoto } from '../../../../test/helpers/moto.ts';
import { openBlobStore } from '../blobs/open-blob-store.ts';
import type { BlobStore } from '../blobs/port.ts';
import type { Farm } from '../config/farm-config.ts';
import { parseConfig } from '../config/load-config.ts';
import { schedulingPolicy } from '../scheduler/live-policy.ts';
import { digestLockKey } from '../store/digest-lock-records.ts';
import { DigestLocks } from '../store/digest-locks.ts';
import { openFarmStore } from '../store/open-store.ts';
import type { DigestLockStore, FarmStore } from '../store/port.ts';
import { advisoryLockWaiters, createTestSchema, type TestSchema } from '../store/test-database.ts';
import { ArtifactMetrics } from './artifact-metrics.ts';
import { ArtifactService } from './artifact-service.ts';

const CONFIG = `repos: [{ name: demo, url: /x }]
builders:
  - { name: build, repo: demo, pool: linux, artifacts: ["*.tar.gz"], steps: [{ name: s, run: "true" }] }
`;

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** A request body as node:http gives it: `complete` once its end arrived. */
function body(text: string): Readable {
  const stream = new PassThrough() as PassThrough & { complete: boolean };
  stream.complete = true;
  stream.end(Buffer.from(text));
  return stream;
}

/**
 * Makes the next call of `blobs[method]` stop (before or after the real call) until released:
 * `entered` resolves once it stopped.
 */
function pauseNext(blobs: BlobStore, method: 'size' | 'remove' | 'commit', when: 'before' | 'after') {
  const real = blobs[method].bind(blobs) as (...args: unknown[]) => Promise<unknown>;
  let release = () => {};
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  let stopped = () => {};
  const entered = new Promise<void>((resolve) => {
    stopped = resolve;
  });
  Object.assign(blobs, {
    [method]: async (...args: unknown[]) => {
      Object.assign(blobs, { [method]: real });
      if (when === 'before') {
        stopped();
        await released;
        return real(...args);
      }
      const answer = await real(...args);
      stopped();
      await released;
      return answer;
    },
  });
  return { entered, release };
}

async function until(condition: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** The guard before digest locks went into the store: each coordinator its own in-process queue. */
function perProcessLocks(): DigestLockStore {
  const locks = new DigestLocks();
  return { withDigestLock: (digest, work) => locks.run(digest, work) };
}

/** One blob store as a replica opens it: each replica its own, over the same directory or bucket. */
type SharedBlobs = () => Promise<BlobStore>;

describe.each(['a blob directory', 'an S3 bucket on moto'])(
  'two coordinators collecting and uploading one blob in %s',
  (kind) => {
    let moto: Moto | null = null;
    let schema: TestSchema;
    /** The case's number: its worker and its two contents (2 bytes each) are its own. */
    let round = 0;
    const content = (which: 'first' | 'second') => `${which === 'first' ? 'A' : 'B'}${round}`;
    let dir: string;
    let farm: Farm;
    const now = Date.parse('2026-11-26T12:00:00Z');
    let storeA: FarmStore;
    let storeB: FarmStore;
    let blobsA: BlobStore;
    let blobsB: BlobStore;

    beforeAll(async () => {
      // One schema and one pair of stores for the file's cases (each uses its own worker, job and
      // contents): a store's migration scans every schema of the database, and fails when another
      // test drops one during the scan; fewer opens and drops, fewer such failures.
      schema = await createTestSchema();
      farm = parseConfig('farm.yml', CONFIG);
      const open = () =>
        openFarmStore(schema.url, {
          agingMs: () => farm.scheduling.agingMs,
          logger: pino({ level: 'silent' }),
          clock: () => now,
        });
      storeA = await open();
      storeB = await open();
      if (kind !== 'a blob directory') {
        moto = await startMoto();
        await moto.bucket('replica-blobs');
      }
    });

    afterAll(async () => {
      await storeA?.close();
      await storeB?.close();
      await moto?.stop();
      await schema?.drop();
    });

    beforeEach(async () => {
      round += 1;
      dir = mkdtempSync(join(tmpdir(), 'switchyard-replica-blobs-'));
      const prefix = `${randomBytes(4).toString('hex')}/`;
      const openBlobs: SharedBlobs = () =>
        openBlobStore(
          moto === null
            ? { kind: 'local', dir: 'blobs' }
            : {
                kind: 's3',
                location: { bucket: 'replica-blobs', prefix },
                client: {
                  region: 'us-east-1',
                  endpoint: moto.endpoint,
                  forcePathStyle: true,
                  credentials: { accessKeyId: 'moto', secretAccessKey: 'moto' },
                },
                redirectDownloads: false,
              },
          dir,
        );
      blobsA = await openBlobs();
      blobsB = await openBlobs();
    });

    afterEach(async () => {
      rmSync(dir, { recursive: true, force: true });
    });

    const service = (store: FarmStore, blobs: BlobStore, locks: DigestLockStore) =>
      new ArtifactService(
        store.artifacts,
        blobs,
        locks,
        () => farm,
        new ArtifactMetrics(new Registry(), () => store.artifacts.stats()),
        pino({ level: 'silent' }),
        () => now,
      );

    /**
     * Replica A, with a running build, stored the case's first content and then replaced it with
     * its second: the first's blob is stored and unreferenced, for A's collector to delete.
     * Replica B's upload of the same bytes under another name, announcing their digest, is admitted.
     */
    async function unreferencedBlob(locks: [DigestLockStore, DigestLockStore]) {
      const a = service(storeA, blobsA, locks[0]);
      const b = service(storeB, blobsB, locks[1]);
      await storeA.pushes.create(farm, { repo: 'demo', branch: 'main', revision: 'abcdef1' });
      await storeA.workers.checkIn(`w${round}`, { pool: 'linux' });
      const assigned = await storeA.jobs.assignWork(
        'linux',
        [{ name: `w${round}`, idleSince: 0 }],
        schedulingPolicy(farm),
        {
          leaseMs: 30_000,
          heartbeatSeconds: 10,
        },
      );
      const build = assigned.get(`w${round}`);
      if (!build) throw new Error('no job to claim');
      for (const bytes of [content('first'), content('second')]) {
        await a.receive(await a.admit(build.job.id, build.attemptId, 'app.tar.gz', {}), body(bytes));
      }
      const digest = sha256(content('first'));
      const headers = { 'content-length': '2', [CONTENT_SHA256_HEADER]: digest };
      const upload = await b.admit(build.job.id, build.attemptId, 'copy.tar.gz', headers);
      return { a, b, digest, upload, jobId: build.job.id };
    }

    it("keeps the blob when B's dedup record found it present just before A's collector looked", async () => {
      const { a, b, digest, upload, jobId } = await unreferencedBlob([storeA.digestLocks, storeB.digestLocks]);
      // B found the row and the bytes, inside its section, and has not recorded the artifact yet.
      const paused = pauseNext(blobsB, 'size', 'after');
      const deduplicating = b.recordIfStored(upload);
      await paused.entered;
      const collecting = a.collect();
      await until(async () => (await advisoryLockWaiters(digestLockKey(digest))) === 1, "A's collector waits for B");
      paused.release();
      expect(await deduplicating).toMatchObject({
        deduplicated: true,
        artifact: { name: 'copy.tar.gz', sha256: digest },
      });
      // Inside its section at last, A found the blob referenced again and kept it.
      expect(await collecting).toMatchObject({ deletedBlobs: 0 });
      expect((await storeA.artifacts.find(jobId, 'copy.tar.gz')).sha256).toBe(digest);
      expect(await blobsA.size(digest)).toBe(2);
    });

    it("makes B's dedup take the body when A's collector is deleting the blob", async () => {
      const { a, b, digest, upload, jobId } = await unreferencedBlob([storeA.digestLocks, storeB.digestLocks]);
      // A forgot the row, inside its section, and has not deleted the bytes yet.
      const paused = pauseNext(blobsA, 'remove', 'before');
      const collecting = a.collect();
      await paused.entered;
      const deduplicating = b.recordIfStored(upload);
      await until(async () => (await advisoryLockWaiters(digestLockKey(digest))) === 1, "B's upload waits for A");
      paused.release();
      expect(await collecting).toMatchObject({ deletedBlobs: 1, freedBytes: 2 });
      expect(await deduplicating).toBeNull();
      // So the body comes, and is stored again.
      expect(await b.receive(upload, body(content('first')))).toMatchObject({
        deduplicated: false,
        artifact: { sha256: digest },
      });
      expect((await storeB.artifacts.find(jobId, 'copy.tar.gz')).sha256).toBe(digest);
      expect(await blobsB.size(digest)).toBe(2);
    });

    it("keeps the blob when B's upload committed it (finding it present) just before A's collector looked", async () => {
      const { a, b, digest, upload, jobId } = await unreferencedBlob([storeA.digestLocks, storeB.digestLocks]);
      // B's copy to the digest found it there (S3's 412) and wrote nothing; its record is next.
      const paused = pauseNext(blobsB, 'commit', 'after');
      const receiving = b.receive(upload, body(content('first')));
      await paused.entered;
      const collecting = a.collect();
      await until(async () => (await advisoryLockWaiters(digestLockKey(digest))) === 1, "A's collector waits for B");
      paused.release();
      expect(await receiving).toMatchObject({ deduplicated: true, artifact: { name: 'copy.tar.gz', sha256: digest } });
      expect(await collecting).toMatchObject({ deletedBlobs: 0 });
      expect((await storeA.artifacts.find(jobId, 'copy.tar.gz')).sha256).toBe(digest);
      expect(await blobsA.size(digest)).toBe(2);
    });

    it('lost the bytes under the per-process locks it replaced (the interleaving above, unguarded)', async () => {
      const { a, b, digest, upload, jobId } = await unreferencedBlob([perProcessLocks(), perProcessLocks()]);
      const paused = pauseNext(blobsB, 'size', 'after');
      const deduplicating = b.recordIfStored(upload);
      await paused.entered;
      // Nothing makes A wait: it forgets the row and deletes the bytes B just found.
      expect(await a.collect()).toMatchObject({ deletedBlobs: 1 });
      paused.release();
      expect(await deduplicating).toMatchObject({ deduplicated: false, artifact: { sha256: digest } });
      expect((await storeB.artifacts.find(jobId, 'copy.tar.gz')).sha256).toBe(digest);
      expect(await blobsB.size(digest)).toBeNull();
    });
  },
);

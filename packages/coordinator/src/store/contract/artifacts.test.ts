import { expect, it } from 'vitest';
import type { NewArtifact, UploadTarget } from '../port.ts';
import { claimJob, eventsAfter, expectRefusal, finish, jobOf, push } from './builders.ts';
import type { ContractContext } from './harness.ts';
import { describeStoreContract, MINUTE } from './harness.ts';

const HOUR = 60 * MINUTE;
const BLOB_A = 'a'.repeat(64);
const BLOB_B = 'b'.repeat(64);

function blob(t: ContractContext, sha256: string, size = 100, lifeMs = HOUR): NewArtifact {
  return { sha256, size, contentType: 'application/x-tar', expiresAt: t.clock.now + lifeMs };
}

/** The feature branch's build running on w1, and the target of an upload named `name` by it. */
async function runningBuild(t: ContractContext, name = 'app.tar') {
  const pushed = await push(t, { branch: 'feature/x' });
  const assignment = await claimJob(t, 'w1');
  const target = await t.store.artifacts.uploadTarget(jobOf(pushed, 'build'), name, assignment.attemptId);
  return { pushed, assignment, target };
}

async function upload(t: ContractContext, target: UploadTarget, sha256: string, size = 100) {
  return t.store.artifacts.record(target, blob(t, sha256, size));
}

describeStoreContract('artifacts', (t) => {
  it('takes uploads only from a running attempt of the job', async () => {
    const pushed = await push(t, { branch: 'feature/x' });
    const buildId = jobOf(pushed, 'build');
    await expectRefusal(t.store.artifacts.uploadTarget(9999, 'app.tar', null), 'not-found');
    const idle = await expectRefusal(t.store.artifacts.uploadTarget(buildId, 'app.tar', null), 'conflict');
    expect(idle.details).toEqual({ state: 'pending' });
    const { attemptId } = await claimJob(t, 'w1');
    expect(await t.store.artifacts.uploadTarget(buildId, 'app.tar', null)).toMatchObject({
      job: { id: buildId },
      attemptNumber: 1,
      name: 'app.tar',
    });
    await expectRefusal(t.store.artifacts.uploadTarget(jobOf(pushed, 'test'), 'app.tar', attemptId), 'invalid-input');
    await finish(t, attemptId, 'exception', 'worker-error');
    await expectRefusal(t.store.artifacts.uploadTarget(buildId, 'app.tar', attemptId), 'lease-lost');
  });

  it('records an artifact with its blob, and announces it', async () => {
    const { pushed, target } = await runningBuild(t);
    const before = await t.store.events.lastId();
    const { artifact, deduplicated } = await upload(t, target, BLOB_A, 123);
    expect(deduplicated).toBe(false);
    expect(artifact).toEqual({
      jobId: jobOf(pushed, 'build'),
      attempt: 1,
      name: 'app.tar',
      sha256: BLOB_A,
      size: 123,
      contentType: 'application/x-tar',
      createdAt: t.clock.iso(),
      expiresAt: t.clock.iso(HOUR),
      url: `/api/v1/blobs/sha256/${BLOB_A}`,
    });
    expect(await t.store.artifacts.blob(BLOB_A)).toEqual({
      sha256: BLOB_A,
      size: 123,
      content_type: 'application/x-tar',
      created_at: t.clock.now,
    });
    expect(await t.store.artifacts.blob(BLOB_B)).toBeUndefined();
    const [created] = await eventsAfter(t, before);
    expect(created).toMatchObject({ type: 'artifact.created', job_id: jobOf(pushed, 'build') });
  });

  it('stores content once, whichever job or name uploads it again', async () => {
    const { target } = await runningBuild(t);
    await upload(t, target, BLOB_A);
    const again = await upload(t, { ...target, name: 'copy.tar' }, BLOB_A);
    expect(again.deduplicated).toBe(true);
    await upload(t, { ...target, name: 'other.tar' }, BLOB_B, 50);
    expect(await t.store.artifacts.stats()).toEqual({
      artifacts: 3,
      blobs: 2,
      logicalBytes: 250,
      storedBytes: 150,
      dedupRatio: 250 / 150,
    });
  });

  it('replaces what an earlier attempt uploaded under the same name', async () => {
    const { pushed, assignment, target } = await runningBuild(t);
    await upload(t, target, BLOB_A);
    await finish(t, assignment.attemptId, 'exception', 'worker-error');
    const retry = await claimJob(t, 'w2');
    const buildId = jobOf(pushed, 'build');
    const second = await t.store.artifacts.uploadTarget(buildId, 'app.tar', retry.attemptId);
    await upload(t, second, BLOB_B);
    expect((await t.store.artifacts.list(buildId)).map((a) => [a.name, a.attempt, a.sha256])).toEqual([
      ['app.tar', 2, BLOB_B],
    ]);
  });

  it('refuses to record for an attempt that ended while its body was on the way', async () => {
    const { assignment, target } = await runningBuild(t);
    await finish(t, assignment.attemptId, 'failure');
    await expectRefusal(upload(t, target, BLOB_A), 'lease-lost');
    expect(await t.store.artifacts.blob(BLOB_A)).toBeUndefined();
  });

  it('lists and finds a job’s artifacts by name until they expire', async () => {
    const { pushed, target } = await runningBuild(t);
    const buildId = jobOf(pushed, 'build');
    await upload(t, { ...target, name: 'z.log' }, BLOB_B);
    await upload(t, target, BLOB_A);
    expect((await t.store.artifacts.list(buildId)).map((a) => a.name)).toEqual(['app.tar', 'z.log']);
    expect((await t.store.artifacts.find(buildId, 'z.log')).sha256).toBe(BLOB_B);
    await expectRefusal(t.store.artifacts.find(buildId, 'nope'), 'not-found');
    await expectRefusal(t.store.artifacts.list(9999), 'not-found');
    t.clock.advance(HOUR);
    expect(await t.store.artifacts.list(buildId)).toEqual([]);
    await expectRefusal(t.store.artifacts.find(buildId, 'z.log'), 'not-found');
  });

  it('resolves a job’s fetch: entries to its dependency’s artifacts, and says what is missing', async () => {
    const { pushed, assignment, target } = await runningBuild(t);
    const testId = jobOf(pushed, 'test');
    const buildId = jobOf(pushed, 'build');
    const [missing] = await t.store.artifacts.inputs(testId);
    expect(missing).toMatchObject({ from: 'build', artifact: 'app.tar', job: buildId, found: null });
    expect(missing?.problem).toMatch(/uploaded no artifact "app.tar"/);
    await upload(t, target, BLOB_A);
    await finish(t, assignment.attemptId, 'success');
    const [found] = await t.store.artifacts.inputs(testId);
    expect(found).toMatchObject({ job: buildId, problem: null, found: { sha256: BLOB_A, name: 'app.tar' } });
    t.clock.advance(HOUR);
    const [expired] = await t.store.artifacts.inputs(testId);
    expect(expired?.problem).toMatch(/expired/);
    expect(await t.store.artifacts.inputs(buildId)).toEqual([]);
    await expectRefusal(t.store.artifacts.inputs(9999), 'not-found');
  });

  it('deletes expired artifacts, then forgets the blobs nothing references', async () => {
    const { target } = await runningBuild(t);
    await t.store.artifacts.record(target, blob(t, BLOB_A, 100, HOUR));
    await t.store.artifacts.record({ ...target, name: 'keep.tar' }, blob(t, BLOB_B, 70, 2 * HOUR));
    await t.store.tools.record({
      sha512: 'c'.repeat(128),
      sha256: BLOB_B,
      size: 70,
      visibility: 'public',
      filename: null,
    });
    expect(await t.store.artifacts.deleteExpired()).toBe(0);
    t.clock.advance(2 * HOUR);
    expect(await t.store.artifacts.deleteExpired()).toBe(2);
    // BLOB_B is the tool's too.
    expect(await t.store.artifacts.unreferencedBlobs()).toEqual([BLOB_A]);
    expect(await t.store.artifacts.forgetBlob(BLOB_B)).toBeNull();
    expect(await t.store.artifacts.forgetBlob(BLOB_A)).toBe(100);
    expect(await t.store.artifacts.forgetBlob(BLOB_A)).toBeNull();
    expect(await t.store.artifacts.blob(BLOB_A)).toBeUndefined();
  });

  it('keeps a blob an unexpired artifact still references', async () => {
    const { target } = await runningBuild(t);
    await upload(t, target, BLOB_A);
    expect(await t.store.artifacts.unreferencedBlobs()).toEqual([]);
    expect(await t.store.artifacts.forgetBlob(BLOB_A)).toBeNull();
  });
});

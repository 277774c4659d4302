import { createHash } from 'node:crypto';
import { CONTENT_SHA256_HEADER, TOOL_FILENAME_HEADER, TOOL_VISIBILITY_HEADER } from '@switchyard/protocol';
import { describe, expect, it } from 'vitest';
import { authSection, bearer, expectError, FARM_YAML, inProcessCoordinator, now } from '../inject-testing.ts';

const coordinator = inProcessCoordinator(FARM_YAML + authSection(false), 'test');

const digest = (algorithm: 'sha256' | 'sha512', bytes: Buffer) => createHash(algorithm).update(bytes).digest('hex');
const TARBALL = Buffer.from('pretend this is a tarball');

/** A push whose build runs on w1: its job and attempt. */
async function runningBuild() {
  await coordinator.push();
  const assignment = await coordinator.claim('w1');
  if (!assignment) throw new Error('w1 was given no work');
  return { jobId: assignment.job.id, attemptId: assignment.attemptId };
}

/** An upload as attempt `attemptId` sends it, with its own credential. */
function uploadArtifact(
  jobId: number,
  attemptId: number,
  name: string,
  body: Buffer,
  headers: Record<string, string> = {},
) {
  return coordinator.inject({
    method: 'PUT',
    url: `/api/v1/jobs/${jobId}/artifacts/${name}`,
    headers: { ...coordinator.attemptCredential(attemptId), 'content-type': 'application/octet-stream', ...headers },
    payload: body,
  });
}

function uploadTool(body: Buffer, headers: Record<string, string> = {}, sha512 = digest('sha512', body)) {
  return coordinator.inject({
    method: 'PUT',
    url: `/api/v1/tools/sha512/${sha512}`,
    headers: { ...bearer('push'), 'content-type': 'application/octet-stream', ...headers },
    payload: body,
  });
}

describe('artifacts', () => {
  it('stores an upload: 201; the same content again is deduplicated: 200', async () => {
    const { jobId, attemptId } = await runningBuild();
    const stored = await uploadArtifact(jobId, attemptId, 'app.tar', TARBALL);
    expect(stored.statusCode).toBe(201);
    expect(stored.json()).toMatchObject({
      deduplicated: false,
      artifact: { jobId, attempt: 1, name: 'app.tar', size: TARBALL.length, sha256: digest('sha256', TARBALL) },
    });
    const again = await uploadArtifact(jobId, attemptId, 'copy.tar', TARBALL, {
      [CONTENT_SHA256_HEADER]: digest('sha256', TARBALL),
    });
    expect(again.statusCode).toBe(200);
    expect(again.json().deduplicated).toBe(true);
  });

  it("refuses uploads from an attempt that ended: 409; for another job: 403; without the attempt's credential: 401", async () => {
    const { jobId, attemptId } = await runningBuild();
    const other = (await coordinator.push()).jobs[0]?.id as number;
    expectError(await uploadArtifact(other, attemptId, 'app.tar', TARBALL), 403, 'forbidden');
    for (const scope of ['worker', 'admin'] as const) {
      const asFarmToken = await coordinator.inject({
        method: 'PUT',
        url: `/api/v1/jobs/${jobId}/artifacts/app.tar`,
        headers: { ...bearer(scope), 'content-type': 'application/octet-stream' },
        payload: TARBALL,
      });
      expectError(asFarmToken, 401, 'unauthenticated');
    }
    await coordinator.report(attemptId, 'finished', { result: 'success', finishedAt: now() });
    const late = expectError(await uploadArtifact(jobId, attemptId, 'app.tar', TARBALL), 409, 'lease-lost');
    expect(late.details).toMatchObject({ state: 'success' });
  });

  it('refuses a body whose digest is not the one declared: 400, storing nothing', async () => {
    const { jobId, attemptId } = await runningBuild();
    const wrong = await uploadArtifact(jobId, attemptId, 'app.tar', TARBALL, {
      [CONTENT_SHA256_HEADER]: 'f'.repeat(64),
    });
    expect(expectError(wrong, 400, 'invalid-request').details).toMatchObject({ actual: digest('sha256', TARBALL) });
    const list = await coordinator.inject({ url: `/api/v1/jobs/${jobId}/artifacts`, headers: bearer('read') });
    expect(list.json()).toEqual({ artifacts: [] });
  });

  it('lists, redirects to and serves the blob; resolves inputs; counts; 404s for what is not there', async () => {
    const { jobId, attemptId } = await runningBuild();
    await uploadArtifact(jobId, attemptId, 'app.tar', TARBALL);
    await coordinator.report(attemptId, 'finished', { result: 'success', finishedAt: now() });
    const read = bearer('read');
    const list = await coordinator.inject({ url: `/api/v1/jobs/${jobId}/artifacts`, headers: read });
    expect(list.json().artifacts.map((a: { name: string }) => a.name)).toEqual(['app.tar']);
    const redirect = await coordinator.inject({ url: `/api/v1/jobs/${jobId}/artifacts/app.tar`, headers: read });
    expect(redirect.statusCode).toBe(302);
    expect(redirect.headers.location).toBe(`/api/v1/blobs/sha256/${digest('sha256', TARBALL)}`);
    const asWorker = await coordinator.inject({ url: redirect.headers.location as string, headers: bearer('worker') });
    expectError(asWorker, 403, 'forbidden');
    const asAttempt = coordinator.attemptCredential(attemptId);
    const blob = await coordinator.inject({ url: redirect.headers.location as string, headers: asAttempt });
    expect(blob.statusCode).toBe(200);
    expect(blob.rawPayload).toEqual(TARBALL);
    expect(blob.headers.etag).toBe(`"${digest('sha256', TARBALL)}"`);
    expectError(
      await coordinator.inject({ url: `/api/v1/jobs/${jobId}/artifacts/none.tar`, headers: read }),
      404,
      'not-found',
    );
    expectError(
      await coordinator.inject({ url: `/api/v1/blobs/sha256/${'0'.repeat(64)}`, headers: read }),
      404,
      'not-found',
    );
    expectError(await coordinator.inject({ url: '/api/v1/blobs/sha256/xyz', headers: read }), 400, 'invalid-request');

    const testJob = (await coordinator.store.jobs.list({ limit: 1, builder: 'test' }))[0]?.id;
    const inputs = await coordinator.inject({ url: `/api/v1/jobs/${testJob}/inputs`, headers: read });
    expect(inputs.json().inputs).toMatchObject([{ from: 'build', artifact: 'app.tar', job: jobId, problem: null }]);
    expectError(await coordinator.inject({ url: '/api/v1/jobs/99999/inputs', headers: read }), 404, 'not-found');
    const stats = await coordinator.inject({ url: '/api/v1/artifacts/stats', headers: read });
    expect(stats.json()).toMatchObject({ artifacts: 1, blobs: 1, storedBytes: TARBALL.length });
  });

  it('collects expired content with the admin scope only: 200, 403', async () => {
    const collect = (scope: 'admin' | 'push') =>
      coordinator.inject({ method: 'POST', url: '/api/v1/artifacts/collect', headers: bearer(scope) });
    expectError(await collect('push'), 403, 'forbidden');
    const collected = await collect('admin');
    expect(collected.json()).toEqual({ expiredArtifacts: 0, deletedBlobs: 0, freedBytes: 0 });
  });
});

describe('tools', () => {
  const COMPILER = Buffer.from('a compiler, roughly');

  it('stores an upload: 201; the same content again: 200 with its new name', async () => {
    const stored = await uploadTool(COMPILER, { [TOOL_FILENAME_HEADER]: 'gcc.tar.xz' });
    expect(stored.statusCode).toBe(201);
    expect(stored.json()).toMatchObject({ visibility: 'internal', filenames: ['gcc.tar.xz'], size: COMPILER.length });
    const again = await uploadTool(COMPILER, { [TOOL_FILENAME_HEADER]: 'cc.tar.xz' });
    expect(again.statusCode).toBe(200);
    expect(again.json().filenames).toEqual(['gcc.tar.xz', 'cc.tar.xz']);
  });

  it('refuses a body that is not the digest of its URL: 400 digest-mismatch; another visibility: 409', async () => {
    expectError(await uploadTool(COMPILER, {}, 'e'.repeat(128)), 400, 'digest-mismatch');
    await uploadTool(COMPILER, { [TOOL_VISIBILITY_HEADER]: 'public' });
    const refusal = await uploadTool(COMPILER, { [TOOL_VISIBILITY_HEADER]: 'internal' });
    expect(expectError(refusal, 409, 'conflict').details).toEqual({ visibility: 'public' });
    expectError(await uploadTool(COMPILER, { [TOOL_VISIBILITY_HEADER]: 'secret' }), 400, 'invalid-request');
    expectError(await uploadTool(COMPILER, { [TOOL_FILENAME_HEADER]: '../etc' }), 400, 'invalid-request');
  });

  it('serves a public tool to anyone, an internal one under the read rule: 200, 401', async () => {
    const secret = Buffer.from('internal only');
    await uploadTool(COMPILER, { [TOOL_VISIBILITY_HEADER]: 'public' });
    await uploadTool(secret);
    const open = await coordinator.inject({ url: `/api/v1/tools/sha512/${digest('sha512', COMPILER)}` });
    expect(open.statusCode).toBe(200);
    expect(open.rawPayload).toEqual(COMPILER);
    const url = `/api/v1/tools/sha512/${digest('sha512', secret)}`;
    expectError(await coordinator.inject({ url }), 401, 'unauthenticated');
    expect((await coordinator.inject({ url, headers: bearer('read') })).rawPayload).toEqual(secret);
    expectError(await coordinator.inject({ url: `/api/v1/tools/sha512/${'1'.repeat(128)}` }), 401, 'unauthenticated');
    expectError(
      await coordinator.inject({ url: `/api/v1/tools/sha512/${'1'.repeat(128)}`, headers: bearer('read') }),
      404,
      'not-found',
    );
  });

  it('lists tools by filename, and deletes one with the admin scope: 204, then 404', async () => {
    await uploadTool(COMPILER, { [TOOL_FILENAME_HEADER]: 'gcc.tar.xz' });
    const list = await coordinator.inject({ url: '/api/v1/tools?filename=gcc.tar.xz', headers: bearer('read') });
    expect(list.json().tools.map((tool: { sha512: string }) => tool.sha512)).toEqual([digest('sha512', COMPILER)]);
    const url = `/api/v1/tools/sha512/${digest('sha512', COMPILER)}`;
    expectError(await coordinator.inject({ method: 'DELETE', url, headers: bearer('push') }), 403, 'forbidden');
    expect((await coordinator.inject({ method: 'DELETE', url, headers: bearer('admin') })).statusCode).toBe(204);
    expectError(await coordinator.inject({ method: 'DELETE', url, headers: bearer('admin') }), 404, 'not-found');
  });
});

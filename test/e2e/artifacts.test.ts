import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type Artifact, type JobDetail, SwitchyardClient } from '@switchyard/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectEvents, waitForPushFinal } from '../helpers/events.ts';
import { TestFarm } from '../helpers/farm.ts';
import { killAll, startServer, startWorker, type TestServer } from '../helpers/processes.ts';
import { startProxyProcess, type TestProxy } from '../helpers/proxy.ts';

const run = promisify(execFile);

const TOKENS = { T_WORKER: 'worker-secret', T_CI: 'ci-secret', T_ADMIN: 'admin-secret' };
const MAX_ARTIFACT_BYTES = 16 * 1024 * 1024;

const config = (serverExtra = '') => `
repos: [{ name: demo, url: $REPO }]
builders:
  - name: build
    repo: demo
    pool: linux
    branches: [main]
    artifacts: ["dist/*.tar.gz", { path: out/report.txt, name: report.txt, optional: true }]
    steps: [{ name: package, run: ./package.sh }]
  - name: test
    repo: demo
    pool: linux
    branches: [main]
    after: build
    checkout: false
    fetch: [{ from: build, artifact: app.tar.gz, to: pkg, unpack: true }]
    steps: [{ name: run, run: ./pkg/bin/tool.sh }]
  - name: inspect
    repo: demo
    pool: direct
    branches: [main]
    after: build
    checkout: false
    fetch: [{ from: build, artifact: app.tar.gz, to: pkg }]
    steps: [{ name: list, run: tar -tzf pkg/app.tar.gz }]
  - name: incomplete
    repo: demo
    pool: linux
    branches: [incomplete]
    checkout: false
    artifacts: [dist/app.tar.gz]
    steps: [{ name: nothing, run: "true" }]
  - name: held
    repo: demo
    pool: manual
    branches: ["manual/*"]
    checkout: false
    steps: [{ name: wait, run: "true" }]
auth:
  public_read: false
  tokens:
    - { name: workers, env: T_WORKER, scopes: [worker] }
    - { name: ci, env: T_CI, scopes: [push, read] }
    - { name: ops, env: T_ADMIN, scopes: [admin] }
server:
  max_artifact_bytes: ${MAX_ARTIFACT_BYTES}
  lease_seconds: 300
${serverExtra}`;

// Reproducible: the same tree packs to the same bytes, so a rebuild uploads a known digest.
const PACKAGE = `#!/bin/sh
set -e
mkdir -p dist stage/bin
printf '#!/bin/sh\\necho "tool works"\\n' > stage/bin/tool.sh
chmod +x stage/bin/tool.sh
tar --mtime=@0 --owner=0 --group=0 --numeric-owner -cf - -C stage bin | gzip -n > dist/app.tar.gz
`;

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

async function logOf(client: SwitchyardClient, jobId: number): Promise<string> {
  let text = '';
  for await (const chunk of client.log(jobId)) text += Buffer.from(chunk).toString();
  return text;
}

/** Runs curl and returns its verbose trace, the body and its `-w` figures. */
async function curl(args: string[]) {
  const { stdout, stderr } = await run('curl', ['-sS', '-v', ...args, '-w', '\n%{http_code} %{size_upload}']);
  const lines = stdout.trimEnd().split('\n');
  const [status, sizeUpload] = (lines.pop() as string).split(' ').map(Number);
  return { status: status as number, sizeUpload: sizeUpload as number, body: lines.join('\n'), trace: stderr };
}

describe('artifacts: uploads that never stall, dedup, and fetch on builders', () => {
  const farm = new TestFarm();
  const env = { ...TOKENS };
  let server: TestServer;
  let proxy: TestProxy;
  let reader: SwitchyardClient;
  let admin: SwitchyardClient;
  const blobDir = join(farm.data, 'blobs');
  const blobFiles = () =>
    readdirSync(blobDir)
      .filter((d) => d !== 'tmp')
      .flatMap((d) => readdirSync(join(blobDir, d)).map((f) => `${d}${f}`))
      .sort();
  const tempFiles = () => readdirSync(join(blobDir, 'tmp'));

  beforeAll(async () => {
    farm.writeConfig(config());
    farm.commit('main', { 'package.sh': PACKAGE }, 'package');
    server = await startServer({ config: farm.config, data: farm.data, env, token: TOKENS.T_WORKER });
    reader = new SwitchyardClient({ server: server.url, token: TOKENS.T_CI });
    admin = new SwitchyardClient({ server: server.url, token: TOKENS.T_ADMIN });
    proxy = await startProxyProcess({
      cacheDir: join(farm.dir, 'proxy-cache'),
      maxSize: '1GiB',
      upstreams: [`artifacts=${server.url}`],
    });
    startWorker({
      server: server.url,
      name: 'w1',
      pool: 'linux',
      workDir: farm.workerDir('w1'),
      env: { SWITCHYARD_TOKEN: TOKENS.T_WORKER, SWITCHYARD_CACHE: proxy.url },
    });
    // A worker without a cache fetches from the coordinator itself.
    startWorker({
      server: server.url,
      name: 'w2',
      pool: 'direct',
      workDir: farm.workerDir('w2'),
      env: { SWITCHYARD_TOKEN: TOKENS.T_WORKER },
    });
  });

  afterAll(async () => {
    await killAll();
    farm.remove();
  });

  it('a build uploads its package; the jobs after it fetch it, through the proxy or not, verified', async () => {
    const revision = farm.commit('main', { 'README.md': 'one\n' }, 'one');
    const push = await reader.createPush({ repo: 'demo', branch: 'main', revision });
    const done = await waitForPushFinal(reader, push.id);
    expect(done.jobs.map((j) => [j.builder, j.state])).toEqual([
      ['build', 'success'],
      ['test', 'success'],
      ['inspect', 'success'],
    ]);
    const [buildJob, testJob, inspectJob] = done.jobs.map((j) => ({ id: j.id })) as [
      { id: number },
      { id: number },
      { id: number },
    ];

    const artifacts = await reader.listArtifacts(buildJob.id);
    expect(artifacts.map((a) => a.name)).toEqual(['app.tar.gz']);
    const [pkg] = artifacts as [Artifact];
    expect(pkg).toMatchObject({ jobId: buildJob.id, attempt: 1, contentType: 'application/gzip' });
    const bytes = Buffer.from(
      await (
        await fetch(`${server.url}${pkg.url}`, { headers: { authorization: `Bearer ${TOKENS.T_CI}` } })
      ).arrayBuffer(),
    );
    expect(bytes.length).toBe(pkg.size);
    expect(sha256(bytes)).toBe(pkg.sha256);

    const build = await reader.getJob(buildJob.id);
    expect(build.attempts[0]?.steps.map((s) => [s.name, s.state])).toEqual([
      ['checkout', 'success'],
      ['package', 'success'],
      ['upload-artifacts', 'success'],
    ]);
    const buildLog = await logOf(reader, buildJob.id);
    expect(buildLog).toContain(`uploading dist/app.tar.gz as app.tar.gz: ${pkg.size} B, sha256 ${pkg.sha256}`);
    expect(buildLog).toContain('optional artifact out/report.txt: no such file, skipped');

    const test: JobDetail = await reader.getJob(testJob.id);
    expect(test.attempts[0]?.steps.map((s) => s.name)).toEqual(['fetch-artifacts', 'run']);
    const testLog = await logOf(reader, testJob.id);
    expect(testLog).toContain(`fetching app.tar.gz of job ${buildJob.id} (build)`);
    expect(testLog).toContain('downloaded from the cache');
    expect(testLog).toContain('unpacked 2 entries into pkg');
    expect(testLog).toContain('tool works');

    const inspectLog = await logOf(reader, inspectJob.id);
    expect(inspectLog).toContain('downloaded from the coordinator');
    expect(inspectLog).toContain('saved as pkg/app.tar.gz');
    expect(inspectLog).toContain('bin/tool.sh');

    const stats = (await (await fetch(`${proxy.url}/_stats`)).json()) as {
      upstreams: Record<string, { misses: number; bytes_served: number }>;
    };
    expect(stats.upstreams.artifacts).toMatchObject({ misses: 1, bytes_served: pkg.size });

    const events = await collectEvents(reader, (seen) => seen.some((e) => e.type === 'artifact.created'), {
      types: ['artifact.created'],
      job: buildJob.id,
    });
    expect(events[0]?.data).toMatchObject({ job: { id: buildJob.id }, artifact: { name: 'app.tar.gz' } });
  });

  it('a rebuild of the same package sends no bytes: the upload is answered before its body', async () => {
    const before = await reader.artifactStats();
    const [push] = await reader.listPushes({ branch: 'main', limit: 1 });
    const job = await admin.retriggerJob(push?.jobs[0]?.id as number);
    await collectEvents(reader, (seen) => seen.some((e) => e.type === 'job.finished'), { job: job.id });
    expect((await reader.getJob(job.id)).state).toBe('success');
    expect(await logOf(reader, job.id)).toContain('app.tar.gz: already stored; no bytes sent');
    const after = await reader.artifactStats();
    expect(after.blobs).toBe(before.blobs);
    expect(after.artifacts).toBe(before.artifacts + 1);
    expect(after.dedupRatio).toBeGreaterThan(before.dedupRatio);
    const headers = { authorization: `Bearer ${TOKENS.T_CI}` };
    const metrics = await (await fetch(`${server.url}/metrics`, { headers })).text();
    expect(metrics).toMatch(/switchyard_artifact_dedup_saved_bytes_total [1-9]/);
    expect(metrics).toMatch(/switchyard_artifact_dedup_ratio [1-9]/);
  });

  it('a declared artifact that is missing fails the job with a clear message', async () => {
    const revision = farm.commit('incomplete', { 'x.txt': 'x\n' }, 'incomplete');
    const push = await reader.createPush({ repo: 'demo', branch: 'incomplete', revision });
    const done = await waitForPushFinal(reader, push.id);
    expect(done.jobs.map((j) => j.state)).toEqual(['failure']);
    const job = await reader.getJob(done.jobs[0]?.id as number);
    expect(job.attempts[0]?.message).toBe('missing artifacts: artifact dist/app.tar.gz: no file at dist/app.tar.gz');
    expect(job.attempts[0]?.steps.at(-1)).toMatchObject({ name: 'upload-artifacts', state: 'failure' });
    expect(await logOf(reader, job.id)).toContain('artifact dist/app.tar.gz: no file at dist/app.tar.gz');
  });

  describe('uploads with curl, to a job held running by a test worker', () => {
    let jobId: number;
    /** The test worker's claim's own credential: the only one that uploads to its job. */
    let attemptToken: string;
    /** Another job's attempt, already ended: its credential, and its job. */
    let other: { jobId: number; attemptToken: string };
    const file10 = join(farm.dir, 'ten-mb.bin');
    const file20 = join(farm.dir, 'twenty-mb.bin');
    const url = (name: string, job = jobId) => `${server.url}/api/v1/jobs/${job}/artifacts/${name}`;
    const auth = (token: string = attemptToken) => ['-H', `Authorization: Bearer ${token}`];

    /** Pushes a `held` job and claims it as test worker `holder`, with the workers' token. */
    async function holdJob(branch: string, holder: string) {
      const push = await reader.createPush({ repo: 'demo', branch, revision: 'abcdef1' });
      const worker = new SwitchyardClient({ server: server.url, token: TOKENS.T_WORKER });
      const assignment = await worker.claim(holder, { pool: 'manual', waitSeconds: 5 });
      expect(assignment?.job.id).toBe(push.jobs[0]?.id);
      return { worker, assignment: assignment as NonNullable<typeof assignment> };
    }

    beforeAll(async () => {
      writeFileSync(file10, randomBytes(10 * 1000 * 1000));
      writeFileSync(file20, randomBytes(20 * 1000 * 1000));
      const held = await holdJob('manual/1', 'test-holder');
      jobId = held.assignment.job.id;
      attemptToken = held.assignment.attemptToken;
      const ended = await holdJob('manual/2', 'other-holder');
      await ended.worker
        .withToken(ended.assignment.attemptToken)
        .attemptFinished(ended.assignment.attemptId, { result: 'success', finishedAt: new Date().toISOString() });
      other = { jobId: ended.assignment.job.id, attemptToken: ended.assignment.attemptToken };
    });

    it("refuses before the body: no attempt's credential (401), another attempt's (403), an ended attempt (409), declared size over the limit (413)", async () => {
      const badToken = await curl(['-T', file10, ...auth('guess'), url('x.bin')]);
      expect([badToken.status, badToken.sizeUpload]).toEqual([401, 0]);
      // The worker's own farm token only claims and heartbeats: it acts on no attempt.
      const workerToken = await curl(['-T', file10, ...auth(TOKENS.T_WORKER), url('x.bin')]);
      expect([workerToken.status, workerToken.sizeUpload]).toEqual([401, 0]);
      expect(JSON.parse(workerToken.body)).toMatchObject({ error: { code: 'unauthenticated' } });
      const anotherAttempt = await curl(['-T', file10, ...auth(other.attemptToken), url('x.bin')]);
      expect([anotherAttempt.status, anotherAttempt.sizeUpload]).toEqual([403, 0]);
      expect(JSON.parse(anotherAttempt.body)).toMatchObject({ error: { code: 'forbidden' } });
      const endedAttempt = await curl(['-T', file10, ...auth(other.attemptToken), url('x.bin', other.jobId)]);
      expect([endedAttempt.status, endedAttempt.sizeUpload]).toEqual([409, 0]);
      expect(JSON.parse(endedAttempt.body)).toMatchObject({ error: { code: 'lease-lost' } });
      const tooLarge = await curl(['-T', file20, ...auth(), url('x.bin')]);
      expect([tooLarge.status, tooLarge.sizeUpload]).toEqual([413, 0]);
      expect(JSON.parse(tooLarge.body).error.message).toContain('over the limit of 16777216');
      expect(tempFiles()).toEqual([]);
    });

    it('answers 100 Continue itself, before the body, so a 10 MB curl -T does not stall', async () => {
      const upload = await curl(['-T', file10, ...auth(), url('ten.bin')]);
      expect(upload.status).toBe(201);
      expect(upload.sizeUpload).toBe(10 * 1000 * 1000);
      const trace = upload.trace.split('\n');
      const sentExpect = trace.findIndex((l) => /^> Expect: 100-continue/i.test(l));
      const gotContinue = trace.findIndex((l) => l.startsWith('< HTTP/1.1 100 Continue'));
      const uploaded = trace.findIndex((l) => /upload completely sent off|completely uploaded/i.test(l));
      const final = trace.findIndex((l) => l.startsWith('< HTTP/1.1 201'));
      expect(sentExpect).toBeGreaterThanOrEqual(0);
      expect(gotContinue).toBeGreaterThan(sentExpect);
      expect(uploaded).toBeGreaterThan(gotContinue);
      expect(final).toBeGreaterThan(uploaded);
      const digest = sha256(readFileSync(file10));
      expect(JSON.parse(upload.body)).toMatchObject({
        artifact: { name: 'ten.bin', size: 10 * 1000 * 1000, sha256: digest },
        deduplicated: false,
      });
    });

    it('sends no body at all for content it already holds (dedup on the wire)', async () => {
      const digest = sha256(readFileSync(file10));
      const blobsBefore = blobFiles();
      const dedup = await curl(['-T', file10, ...auth(), '-H', `X-Content-SHA256: ${digest}`, url('again.bin')]);
      expect([dedup.status, dedup.sizeUpload]).toEqual([200, 0]);
      expect(dedup.trace).not.toContain('< HTTP/1.1 100 Continue');
      expect(JSON.parse(dedup.body)).toMatchObject({
        artifact: { name: 'again.bin', sha256: digest },
        deduplicated: true,
      });
      expect(blobFiles()).toEqual(blobsBefore);
      expect((await reader.listArtifacts(jobId)).map((a) => a.name)).toEqual(['again.bin', 'ten.bin']);
    });

    it('without Expect, refuses as soon as the limit is crossed (413) or the digest is wrong (400), keeping nothing', async () => {
      const blobsBefore = blobFiles();
      const chunked = await curl([
        '-T',
        file20,
        ...auth(),
        '-H',
        'Expect:',
        '-H',
        'Transfer-Encoding: chunked',
        url('chunked.bin'),
      ]);
      expect(chunked.status).toBe(413);
      expect(chunked.trace).not.toContain('100 Continue');
      expect(JSON.parse(chunked.body)).toMatchObject({ error: { code: 'payload-too-large' } });

      const wrongDigest = await curl([
        '-T',
        file10,
        ...auth(),
        '-H',
        'Expect:',
        '-H',
        `X-Content-SHA256: ${'0'.repeat(64)}`,
        url('wrong.bin'),
      ]);
      expect([wrongDigest.status, wrongDigest.sizeUpload]).toEqual([400, 10 * 1000 * 1000]);
      expect(JSON.parse(wrongDigest.body).error.message).toContain('nothing was stored');

      expect(blobFiles()).toEqual(blobsBefore);
      expect(tempFiles()).toEqual([]);
      expect((await reader.listArtifacts(jobId)).map((a) => a.name)).toEqual(['again.bin', 'ten.bin']);
    });

    it('serves blobs by digest with ETag, Range, If-None-Match and a redirect from the artifact', async () => {
      const digest = sha256(readFileSync(file10));
      // What the job's worker fetches with: its attempt's credential, which reads.
      const headers = { authorization: `Bearer ${attemptToken}` };
      const redirect = await fetch(url('ten.bin'), { headers, redirect: 'manual' });
      expect(redirect.status).toBe(302);
      expect(redirect.headers.get('location')).toBe(`/api/v1/blobs/sha256/${digest}`);

      const blobUrl = `${server.url}/api/v1/blobs/sha256/${digest}`;
      const whole = await fetch(blobUrl, { headers });
      expect(whole.status).toBe(200);
      expect(whole.headers.get('etag')).toBe(`"${digest}"`);
      expect(whole.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      expect(whole.headers.get('x-content-type-options')).toBe('nosniff');
      expect(whole.headers.get('content-security-policy')).toContain('sandbox');
      expect(whole.headers.get('content-length')).toBe(String(10 * 1000 * 1000));
      expect(sha256(Buffer.from(await whole.arrayBuffer()))).toBe(digest);

      const part = await fetch(blobUrl, { headers: { ...headers, range: 'bytes=100-199' } });
      expect(part.status).toBe(206);
      expect(part.headers.get('content-range')).toBe(`bytes 100-199/${10 * 1000 * 1000}`);
      expect(Buffer.from(await part.arrayBuffer())).toEqual(readFileSync(file10).subarray(100, 200));

      const outside = await fetch(blobUrl, { headers: { ...headers, range: 'bytes=20000000-' } });
      expect(outside.status).toBe(416);
      expect(outside.headers.get('content-range')).toBe(`bytes */${10 * 1000 * 1000}`);

      const unchanged = await fetch(blobUrl, { headers: { ...headers, 'if-none-match': `"${digest}"` } });
      expect(unchanged.status).toBe(304);

      expect((await fetch(blobUrl)).status).toBe(401);
      const asWorker = { authorization: `Bearer ${TOKENS.T_WORKER}` };
      expect((await fetch(blobUrl, { headers: asWorker })).status).toBe(403);
      expect((await fetch(`${server.url}/api/v1/blobs/sha256/${'f'.repeat(64)}`, { headers })).status).toBe(404);
    });

    it('collects expired artifacts and the blobs nothing references any more', async () => {
      const kept = sha256(readFileSync(file10));
      // Uploads from now on expire within a second; the earlier ones keep their 30 days.
      farm.writeConfig(config('  artifact_expiry_days: 0.00001'));
      process.kill(server.child.pid as number, 'SIGHUP');
      await collectEvents(reader, (seen) => seen.some((e) => e.type === 'config.reloaded'), {
        types: ['config.reloaded'],
      });
      const shortLived = join(farm.dir, 'short-lived.bin');
      writeFileSync(shortLived, randomBytes(4096));
      const doomed = sha256(readFileSync(shortLived));
      expect((await curl(['-T', shortLived, ...auth(), url('short.bin')])).status).toBe(201);
      // The same content as ten.bin, under another name: this artifact expires, the blob stays.
      const again = await curl(['-T', file10, ...auth(), '-H', `X-Content-SHA256: ${kept}`, url('brief.bin')]);
      expect(again.status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 1500));

      expect((await fetch(`${server.url}/api/v1/artifacts/collect`, { method: 'POST' })).status).toBe(401);
      const collected = await admin.collectArtifacts();
      expect(collected).toEqual({ expiredArtifacts: 2, deletedBlobs: 1, freedBytes: 4096 });
      expect(existsSync(join(blobDir, doomed.slice(0, 2), doomed.slice(2)))).toBe(false);
      expect(existsSync(join(blobDir, kept.slice(0, 2), kept.slice(2)))).toBe(true);
      expect((await reader.listArtifacts(jobId)).map((a) => a.name)).toEqual(['again.bin', 'ten.bin']);
      const headers = { authorization: `Bearer ${TOKENS.T_CI}` };
      expect((await fetch(`${server.url}/api/v1/blobs/sha256/${doomed}`, { headers })).status).toBe(404);
      expect((await fetch(`${server.url}/api/v1/blobs/sha256/${kept}`, { headers })).status).toBe(200);
    });
  });
});

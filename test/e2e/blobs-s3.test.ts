import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { SwitchyardClient } from '@switchyard/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitForPushFinal } from '../helpers/events.ts';
import { TestFarm } from '../helpers/farm.ts';
import { type Moto, startMoto } from '../helpers/moto.ts';
import { killAll, startServer, startWorker, switchyardCommand, type TestServer } from '../helpers/processes.ts';

const run = promisify(execFile);
const TOKENS = { T_WORKER: 'worker-secret', T_CI: 'ci-secret', T_ADMIN: 'admin-secret' };
const BUCKET = 'switchyard-e2e';
const MB = 1000 * 1000;
/**
 * Artifacts expire 30 s after upload, so the collector can be seen deleting one: long enough for
 * the build's artifact to be fetched by the job after it on a loaded machine.
 */
const EXPIRY_DAYS = 30 / 86_400;

const config = (serverExtra = '') => `
repos: [{ name: demo, url: $REPO }]
builders:
  - name: build
    repo: demo
    pool: linux
    branches: [main]
    artifacts: [dist/app.bin]
    steps: [{ name: package, run: "mkdir -p dist && head -c 3000000 /dev/urandom > dist/app.bin" }]
  - name: inspect
    repo: demo
    pool: linux
    branches: [main]
    after: build
    checkout: false
    fetch: [{ from: build, artifact: app.bin, to: pkg }]
    steps: [{ name: sum, run: sha256sum pkg/app.bin }]
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
  max_artifact_bytes: ${32 * MB}
  artifact_expiry_days: ${EXPIRY_DAYS}
  lease_seconds: 300
${serverExtra}`;

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

/** Runs curl and returns its verbose trace, the body and its `-w` figures. */
async function curl(args: string[]) {
  const { stdout, stderr } = await run('curl', ['-sS', '-v', ...args, '-w', '\n%{http_code} %{size_upload}']);
  const lines = stdout.trimEnd().split('\n');
  const [status, sizeUpload] = (lines.pop() as string).split(' ').map(Number);
  return { status: status as number, sizeUpload: sizeUpload as number, body: lines.join('\n'), trace: stderr };
}

/** Sends `sent` bytes of a body that declares `declared`, then drops the connection: a client that went away. */
function cutOffUpload(url: string, token: string, declared: number, sent: Buffer): Promise<void> {
  return new Promise((resolve) => {
    const request = httpRequest(url, {
      method: 'PUT',
      agent: false,
      headers: { authorization: `Bearer ${token}`, 'content-length': String(declared) },
    });
    request.on('error', () => resolve());
    request.write(sent, () => setTimeout(() => request.destroy(), 300));
    request.on('close', () => resolve());
  });
}

async function until<T>(
  what: string,
  probe: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(value)} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe('blobs on S3 (moto_server): a coordinator started with --blobs s3://…', () => {
  const farm = new TestFarm();
  const env = { ...TOKENS };
  let moto: Moto;
  let server: TestServer;
  let reader: SwitchyardClient;
  let jobId: number;
  let attemptToken: string;
  /** The blob of the tool uploaded, which no expiry touches. */
  let toolBlob: string;
  const file12 = join(farm.dir, 'twelve-mb.bin');
  const url = (name: string) => `${server.url}/api/v1/jobs/${jobId}/artifacts/${name}`;
  const blobKeys = async () => (await moto.keys(BUCKET, 'farm/sha256/')).map((key) => key.slice('farm/sha256/'.length));

  beforeAll(async () => {
    moto = await startMoto();
    await moto.bucket(BUCKET);
    farm.writeConfig(config());
    farm.commit('main', { 'README.md': 'blobs\n' }, 'readme');
    server = await startServer({
      config: farm.config,
      data: farm.data,
      blobs: `s3://${BUCKET}/farm`,
      env: { ...env, ...moto.env },
      token: TOKENS.T_WORKER,
    });
    reader = new SwitchyardClient({ server: server.url, token: TOKENS.T_CI });
    writeFileSync(file12, randomBytes(12 * MB));
    const push = await reader.createPush({ repo: 'demo', branch: 'manual/1', revision: 'abcdef1' });
    const worker = new SwitchyardClient({ server: server.url, token: TOKENS.T_WORKER });
    const assignment = await worker.claim('test-holder', { pool: 'manual', waitSeconds: 5 });
    expect(assignment?.job.id).toBe(push.jobs[0]?.id);
    jobId = assignment?.job.id as number;
    attemptToken = assignment?.attemptToken as string;
  });

  afterAll(async () => {
    await killAll();
    await moto?.stop();
    farm.remove();
  });

  it('streams a 12 MB upload to the bucket as a multipart upload, visible under its digest, nothing left in tmp/', async () => {
    const upload = await curl(['-T', file12, '-H', `Authorization: Bearer ${attemptToken}`, url('twelve.bin')]);
    expect(upload.status).toBe(201);
    expect(upload.trace).toContain('< HTTP/1.1 100 Continue');
    const digest = sha256(readFileSync(file12));
    expect(JSON.parse(upload.body)).toMatchObject({ artifact: { name: 'twelve.bin', size: 12 * MB, sha256: digest } });
    expect(await blobKeys()).toEqual([digest]);
    expect(await moto.keys(BUCKET, 'farm/tmp/')).toEqual([]);
    expect(await moto.openUploads(BUCKET)).toEqual([]);
  });

  it('serves the blob from S3 with its sha256, Range, If-None-Match and 416', async () => {
    const data = readFileSync(file12);
    const blobUrl = `${server.url}/api/v1/blobs/sha256/${sha256(data)}`;
    const headers = { authorization: `Bearer ${attemptToken}` };
    const whole = await fetch(blobUrl, { headers });
    expect(whole.status).toBe(200);
    expect(whole.headers.get('etag')).toBe(`"${sha256(data)}"`);
    expect(sha256(Buffer.from(await whole.arrayBuffer()))).toBe(sha256(data));
    const part = await fetch(blobUrl, { headers: { ...headers, range: 'bytes=9000000-9000099' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 9000000-9000099/${12 * MB}`);
    expect(Buffer.from(await part.arrayBuffer()).equals(data.subarray(9_000_000, 9_000_100))).toBe(true);
    const unchanged = await fetch(blobUrl, { headers: { ...headers, 'if-none-match': `"${sha256(data)}"` } });
    expect(unchanged.status).toBe(304);
    const outside = await fetch(blobUrl, { headers: { ...headers, range: `bytes=${20 * MB}-` } });
    expect(outside.status).toBe(416);
  });

  it('sends no body for a digest the bucket holds (dedup on the wire, before 100 Continue)', async () => {
    const digest = sha256(readFileSync(file12));
    const dedup = await curl([
      '-T',
      file12,
      '-H',
      `Authorization: Bearer ${attemptToken}`,
      '-H',
      `X-Content-SHA256: ${digest}`,
      url('again.bin'),
    ]);
    expect([dedup.status, dedup.sizeUpload]).toEqual([200, 0]);
    expect(dedup.trace).not.toContain('100 Continue');
    expect(JSON.parse(dedup.body)).toMatchObject({ deduplicated: true, artifact: { sha256: digest } });
    expect(await blobKeys()).toEqual([digest]);
  });

  it('a client that goes away mid-upload leaves no object and no open multipart upload', async () => {
    const before = await blobKeys();
    await cutOffUpload(url('cut.bin'), attemptToken, 20 * MB, randomBytes(11 * MB));
    await until(
      'temporary objects',
      () => moto.keys(BUCKET, 'farm/tmp/'),
      (keys) => keys.length === 0,
    );
    await until(
      'open multipart uploads',
      () => moto.openUploads(BUCKET),
      (uploads) => uploads.length === 0,
    );
    expect(await blobKeys()).toEqual(before);
    expect((await reader.listArtifacts(jobId)).map((a) => a.name)).not.toContain('cut.bin');
  });

  it('a build uploads its artifact to S3 and the job after it fetches it, verified, through the coordinator', async () => {
    startWorker({
      server: server.url,
      name: 'w1',
      pool: 'linux',
      workDir: farm.workerDir('w1'),
      env: { SWITCHYARD_TOKEN: TOKENS.T_WORKER },
    });
    const push = await reader.createPush({ repo: 'demo', branch: 'main', revision: farm.commit('main', { x: '1\n' }) });
    const done = await waitForPushFinal(reader, push.id);
    expect(done.jobs.map((j) => [j.builder, j.state])).toEqual([
      ['build', 'success'],
      ['inspect', 'success'],
    ]);
    const [artifact] = await reader.listArtifacts(done.jobs[0]?.id as number);
    expect(await blobKeys()).toContain(artifact?.sha256);
    let log = '';
    for await (const chunk of reader.log(done.jobs[1]?.id as number)) log += Buffer.from(chunk).toString();
    expect(log).toContain(`${artifact?.sha256}  pkg/app.bin`);
  });

  it('stores tools in the bucket too, and serves them back', async () => {
    const tool = randomBytes(6 * MB);
    const sha512 = createHash('sha512').update(tool).digest('hex');
    const path = join(farm.dir, 'tool.bin');
    writeFileSync(path, tool);
    const toolUrl = `${server.url}/api/v1/tools/sha512/${sha512}`;
    const upload = await curl(['-T', path, '-H', `Authorization: Bearer ${TOKENS.T_CI}`, toolUrl]);
    expect(upload.status).toBe(201);
    toolBlob = sha256(tool);
    expect(await blobKeys()).toContain(toolBlob);
    const got = await fetch(toolUrl, { headers: { authorization: `Bearer ${TOKENS.T_CI}` } });
    expect(got.status).toBe(200);
    expect(
      createHash('sha512')
        .update(Buffer.from(await got.arrayBuffer()))
        .digest('hex'),
    ).toBe(sha512);
  });

  it('the expiry collector deletes the objects of expired artifacts, and keeps the tools', async () => {
    const data = readFileSync(file12);
    await until(
      'expiry',
      async () => (await reader.listArtifacts(jobId)).length,
      (count) => count === 0,
      45_000,
    );
    const collected = await fetch(`${server.url}/api/v1/artifacts/collect`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKENS.T_ADMIN}` },
    });
    expect(collected.status).toBe(200);
    expect(((await collected.json()) as { deletedBlobs: number }).deletedBlobs).toBeGreaterThanOrEqual(1);
    const left = await blobKeys();
    expect(left).not.toContain(sha256(data));
    expect(left).toContain(toolBlob);
  });

  it('with redirect_downloads, a download is a 307 to a presigned URL that serves the bytes and the Range', async () => {
    const other = new TestFarm();
    try {
      other.writeConfig(config(`  blobs: { url: "s3://${BUCKET}/redirect", redirect_downloads: true }`));
      const redirecting = await startServer({
        config: other.config,
        data: other.data,
        env: { ...env, ...moto.env },
        token: TOKENS.T_WORKER,
      });
      const push = await new SwitchyardClient({ server: redirecting.url, token: TOKENS.T_CI }).createPush({
        repo: 'demo',
        branch: 'manual/2',
        revision: 'abcdef2',
      });
      const worker = new SwitchyardClient({ server: redirecting.url, token: TOKENS.T_WORKER });
      const held = await worker.claim('holder-2', { pool: 'manual', waitSeconds: 5 });
      expect(held?.job.id).toBe(push.jobs[0]?.id);
      const auth = ['-H', `Authorization: Bearer ${held?.attemptToken}`];
      const upload = await curl([
        '-T',
        file12,
        ...auth,
        `${redirecting.url}/api/v1/jobs/${held?.job.id}/artifacts/r.bin`,
      ]);
      expect(upload.status).toBe(201);
      const digest = (JSON.parse(upload.body) as { artifact: { sha256: string } }).artifact.sha256;
      const blobUrl = `${redirecting.url}/api/v1/blobs/sha256/${digest}`;
      const headers = { authorization: `Bearer ${held?.attemptToken}` };
      const redirect = await fetch(blobUrl, { headers, redirect: 'manual' });
      expect(redirect.status).toBe(307);
      expect(redirect.headers.get('cache-control')).toBe('no-store');
      const location = new URL(redirect.headers.get('location') as string);
      expect(location.origin).toBe(moto.endpoint);
      expect(location.pathname).toBe(`/${BUCKET}/redirect/sha256/${digest}`);
      expect([...location.searchParams.keys()].filter((key) => /checksum/i.test(key))).toEqual([]);
      const part = await fetch(location, { headers: { range: 'bytes=0-99' } });
      expect(part.status).toBe(206);
      const data = readFileSync(file12);
      expect(Buffer.from(await part.arrayBuffer()).equals(data.subarray(0, 100))).toBe(true);
      // HEAD is answered by the coordinator itself.
      expect((await fetch(blobUrl, { method: 'HEAD', headers })).status).toBe(200);
      await redirecting.kill();
    } finally {
      other.remove();
    }
  });
});

describe('switchyard blobs copy: a blob directory into S3', () => {
  let moto: Moto;
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-blob-dir-'));
  /** Writes bytes where a blob directory keeps them: `<dir>/ab/cdef…`, named by the sha256 given. */
  const put = (name: string, data: string) => {
    mkdirSync(join(dir, name.slice(0, 2)), { recursive: true });
    writeFileSync(join(dir, name.slice(0, 2), name.slice(2)), data);
  };

  beforeAll(async () => {
    moto = await startMoto();
    await moto.bucket('copied');
  });

  afterAll(async () => {
    await moto?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('copies every blob under the same digest, reports a damaged one, and skips what is there on a second run', async () => {
    put(sha256('one'), 'one');
    put(sha256('two'), 'two');
    // Named by the digest of other bytes: never copied under that name.
    put(sha256('three'), 'not three');
    const copy = () =>
      switchyardCommand(
        ['blobs', 'copy', '--from', dir, '--to', 's3://copied/moved', '--config', join(dir, 'none.yml')],
        {
          ...moto.env,
        },
      );
    const first = await copy();
    expect(first.code).toBe(1);
    expect(first.output).toContain('copied 2 blobs (6 bytes) to s3://copied/moved/; 0 were there already');
    expect(first.output).toContain(`1 files hold bytes whose sha256 is not their name`);
    expect(first.output).toContain(join(dir, sha256('three').slice(0, 2), sha256('three').slice(2)));
    expect(await moto.keys('copied')).toEqual(
      [`moved/sha256/${sha256('one')}`, `moved/sha256/${sha256('two')}`].sort(),
    );
    rmSync(join(dir, sha256('three').slice(0, 2)), { recursive: true });
    put(sha256('four'), 'four');
    const second = await copy();
    expect(second.code).toBe(0);
    expect(second.output).toContain('copied 1 blobs (4 bytes) to s3://copied/moved/; 2 were there already');
    expect(await moto.keys('copied', 'moved/tmp/')).toEqual([]);
  });
});

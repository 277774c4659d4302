import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { join } from 'node:path';
import {
  CONTENT_SHA256_HEADER,
  SwitchyardClient,
  TOOL_FILENAME_HEADER,
  TOOL_VISIBILITY_HEADER,
  type ToolRecord,
  toolPath,
} from '@switchyard/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestFarm } from '../helpers/farm.ts';
import { killAll, startServer, type TestServer } from '../helpers/processes.ts';

const TOKENS = { T_PUSH: 'push-secret', T_READ: 'read-secret', T_WORKER: 'worker-secret', T_ADMIN: 'admin-secret' };
const MAX_BYTES = 1024 * 1024;

const CONFIG = `
repos: [{ name: demo, url: $REPO }]
builders:
  - name: held
    repo: demo
    pool: manual
    branches: ["manual/*"]
    checkout: false
    steps: [{ name: wait, run: "true" }]
auth:
  public_read: false
  tokens:
    - { name: uploader, env: T_PUSH, scopes: [push] }
    - { name: reader, env: T_READ, scopes: [read] }
    - { name: workers, env: T_WORKER, scopes: [worker] }
    - { name: ops, env: T_ADMIN, scopes: [admin] }
server:
  max_artifact_bytes: ${MAX_BYTES}
  lease_seconds: 300
`;

const sha512 = (data: Buffer) => createHash('sha512').update(data).digest('hex');
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

interface PutAnswer {
  status: number;
  json: Record<string, unknown>;
  /** Whether the server asked for the body (100 Continue), so that it went out. */
  bodySent: boolean;
}

/**
 * PUTs a body as a tooltool-style client with `Expect: 100-continue` would: the body goes only
 * once the server says 100 Continue, and an answer before that is final. Without
 * `expectContinue` the body goes at once; `chunked` sends it without a Content-Length.
 */
function put(
  url: string,
  body: Buffer,
  headers: Record<string, string>,
  { expectContinue = true, chunked = false } = {},
): Promise<PutAnswer> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, {
      method: 'PUT',
      agent: false,
      headers: {
        'content-type': 'application/octet-stream',
        ...(chunked ? { 'transfer-encoding': 'chunked' } : { 'content-length': String(body.length) }),
        ...(expectContinue && { expect: '100-continue' }),
        ...headers,
      },
    });
    let bodySent = false;
    const sendBody = () => {
      bodySent = true;
      request.end(body);
    };
    request.on('continue', sendBody);
    request.on('error', reject);
    request.on('response', (response: IncomingMessage) => {
      if (!bodySent) request.end();
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', reject);
      response.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: response.statusCode ?? 0, json: text ? JSON.parse(text) : {}, bodySent });
      });
    });
    if (expectContinue) request.flushHeaders();
    else sendBody();
  });
}

/** A sample of the coordinator's metrics, or 0 when it has not been counted yet. */
async function metric(server: TestServer, line: string): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`, { headers: bearer(TOKENS.T_READ) })).text();
  const found = text.split('\n').find((l) => l.startsWith(`${line} `));
  return found ? Number(found.slice(line.length + 1)) : 0;
}

describe('the tool store: tooltool-compatible, addressed by sha512', () => {
  const farm = new TestFarm();
  let server: TestServer;
  let reader: SwitchyardClient;
  let admin: SwitchyardClient;
  const blobDir = join(farm.data, 'blobs');
  const blobFiles = () =>
    readdirSync(blobDir)
      .filter((d) => d !== 'tmp')
      .flatMap((d) => readdirSync(join(blobDir, d)).map((f) => `${d}${f}`))
      .sort();
  const blobFile = (digest: string) => join(blobDir, digest.slice(0, 2), digest.slice(2));
  const toolUrl = (digest: string) => `${server.url}${toolPath(digest)}`;
  const upload = (data: Buffer, headers: Record<string, string> = {}, digest = sha512(data)) =>
    put(toolUrl(digest), data, { ...bearer(TOKENS.T_PUSH), ...headers });

  const compiler = randomBytes(200_000);
  const secret = randomBytes(50_000);

  /** Pushes a `held` job and claims it as test worker `holder`, with the workers' token. */
  const holdJob = async (holder: string) => {
    const pusher = new SwitchyardClient({ server: server.url, token: TOKENS.T_PUSH });
    const push = await pusher.createPush({ repo: 'demo', branch: 'manual/1', revision: 'abcdef1' });
    const worker = new SwitchyardClient({ server: server.url, token: TOKENS.T_WORKER });
    const assignment = await worker.claim(holder, { pool: 'manual', waitSeconds: 5 });
    expect(assignment?.job.id).toBe(push.jobs[0]?.id);
    return { worker, assignment: assignment as NonNullable<typeof assignment> };
  };

  const start = async () => {
    server = await startServer({ config: farm.config, data: farm.data, env: TOKENS });
    reader = new SwitchyardClient({ server: server.url, token: TOKENS.T_READ });
    admin = new SwitchyardClient({ server: server.url, token: TOKENS.T_ADMIN });
  };

  beforeAll(async () => {
    farm.writeConfig(CONFIG);
    await start();
  });

  afterAll(async () => {
    await killAll();
    farm.remove();
  });

  it('stores an upload under its sha512 and serves it back whole, by range and to HEAD', async () => {
    const digest = sha512(compiler);
    const stored = await upload(compiler, {
      [TOOL_VISIBILITY_HEADER]: 'public',
      [TOOL_FILENAME_HEADER]: 'gcc.tar.xz',
    });
    expect(stored.status).toBe(201);
    expect(stored.bodySent).toBe(true);
    expect(stored.json).toMatchObject({
      sha512: digest,
      sha256: sha256(compiler),
      size: compiler.length,
      visibility: 'public',
      filenames: ['gcc.tar.xz'],
    });
    expect(blobFiles()).toEqual([sha256(compiler)]);

    const whole = await fetch(toolUrl(digest));
    expect(whole.status).toBe(200);
    expect(whole.headers.get('content-type')).toBe('application/octet-stream');
    expect(whole.headers.get('content-length')).toBe(String(compiler.length));
    expect(whole.headers.get('etag')).toBe(`"${digest}"`);
    expect(whole.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(Buffer.from(await whole.arrayBuffer())).toEqual(compiler);

    const head = await fetch(toolUrl(digest), { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(String(compiler.length));
    expect(head.headers.get('etag')).toBe(`"${digest}"`);
    expect((await head.arrayBuffer()).byteLength).toBe(0);

    const part = await fetch(toolUrl(digest), { headers: { range: 'bytes=1000-1999' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 1000-1999/${compiler.length}`);
    expect(Buffer.from(await part.arrayBuffer())).toEqual(compiler.subarray(1000, 2000));

    const outside = await fetch(toolUrl(digest), { headers: { range: `bytes=${compiler.length}-` } });
    expect(outside.status).toBe(416);
    const unchanged = await fetch(toolUrl(digest), { headers: { 'if-none-match': `"${digest}"` } });
    expect(unchanged.status).toBe(304);

    expect(await metric(server, 'switchyard_tool_downloads_total{visibility="public"}')).toBe(2);
  });

  it('answers an upload of a stored digest before its body: zero body bytes, the new name recorded', async () => {
    const receivedBefore = await metric(server, 'switchyard_tool_received_bytes_total');
    const blobsBefore = blobFiles();
    const again = await upload(compiler, {
      [TOOL_VISIBILITY_HEADER]: 'public',
      [TOOL_FILENAME_HEADER]: 'gcc-13.tar.xz',
    });
    expect(again.status).toBe(200);
    expect(again.bodySent).toBe(false);
    expect(again.json).toMatchObject({ sha512: sha512(compiler), filenames: ['gcc.tar.xz', 'gcc-13.tar.xz'] });
    expect(await metric(server, 'switchyard_tool_received_bytes_total')).toBe(receivedBefore);
    expect(await metric(server, 'switchyard_tool_uploads_total{outcome="deduplicated"}')).toBe(1);
    expect(blobFiles()).toEqual(blobsBefore);
  });

  it('refuses a body whose sha512 is not the URL one (400 digest-mismatch) and keeps nothing', async () => {
    const blobsBefore = blobFiles();
    const wrong = await upload(randomBytes(4096), {}, sha512(Buffer.from('something else')));
    expect(wrong.status).toBe(400);
    expect(wrong.bodySent).toBe(true);
    expect(wrong.json).toMatchObject({ error: { code: 'digest-mismatch' } });
    expect(blobFiles()).toEqual(blobsBefore);
    expect(readdirSync(join(blobDir, 'tmp'))).toEqual([]);
    expect((await reader.listTools()).map((t) => t.sha512)).toEqual([sha512(compiler)]);
  });

  it('refuses before the body: a visibility change (409), no token, a read token, oversize, a bad digest', async () => {
    const changed = await upload(compiler, { [TOOL_VISIBILITY_HEADER]: 'internal' });
    expect([changed.status, changed.bodySent]).toEqual([409, false]);
    expect(changed.json).toMatchObject({ error: { code: 'conflict' } });
    expect((await reader.listTools())[0]?.visibility).toBe('public');

    const anonymous = await put(toolUrl(sha512(secret)), secret, {});
    expect([anonymous.status, anonymous.bodySent]).toEqual([401, false]);
    const readOnly = await put(toolUrl(sha512(secret)), secret, bearer(TOKENS.T_READ));
    expect([readOnly.status, readOnly.bodySent]).toEqual([403, false]);
    const huge = randomBytes(MAX_BYTES + 1);
    const tooLarge = await upload(huge);
    expect([tooLarge.status, tooLarge.bodySent]).toEqual([413, false]);
    const badDigest = await upload(secret, {}, 'ABC');
    expect([badDigest.status, badDigest.bodySent]).toEqual([400, false]);
    const badName = await upload(secret, { [TOOL_FILENAME_HEADER]: '../etc/passwd' });
    expect([badName.status, badName.bodySent]).toEqual([400, false]);
    expect(await metric(server, 'switchyard_tool_uploads_total{outcome="refused"}')).toBeGreaterThanOrEqual(6);
  });

  it('needs a Content-Length (411), and refuses the same way without Expect', async () => {
    const url = toolUrl(sha512(secret));
    const auth = bearer(TOKENS.T_PUSH);
    const chunked = await put(url, secret, auth, { chunked: true });
    expect([chunked.status, chunked.bodySent]).toEqual([411, false]);
    expect(chunked.json).toMatchObject({ error: { code: 'length-required' } });
    const chunkedPlain = await put(url, secret, auth, { chunked: true, expectContinue: false });
    expect(chunkedPlain.status).toBe(411);
    const changed = await put(
      toolUrl(sha512(compiler)),
      compiler,
      { ...auth, [TOOL_VISIBILITY_HEADER]: 'internal' },
      { expectContinue: false },
    );
    expect(changed.status).toBe(409);
    const wrong = await put(toolUrl(sha512(compiler)), secret, auth, { expectContinue: false });
    expect(wrong.status).toBe(400);
    expect((await reader.listTools()).map((t) => t.sha512)).toEqual([sha512(compiler)]);
  });

  it("serves a public tool to anyone, and an internal one only with a read token or a running attempt's credential, not the worker's own token", async () => {
    const digest = sha512(secret);
    const stored = await upload(secret, { [TOOL_FILENAME_HEADER]: 'signing-kit.zip' });
    expect(stored.status).toBe(201);
    expect(stored.json).toMatchObject({ visibility: 'internal' });

    const open = await fetch(toolUrl(sha512(compiler)));
    expect(open.status).toBe(200);
    expect(open.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    const anonymous = await fetch(toolUrl(digest));
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toMatchObject({ error: { code: 'unauthenticated' } });
    expect((await fetch(toolUrl(digest), { method: 'HEAD' })).status).toBe(401);
    expect((await fetch(toolUrl(digest), { headers: bearer(TOKENS.T_PUSH) })).status).toBe(403);
    // The worker's token only claims and heartbeats; the job it runs fetches its tools with its attempt's credential.
    expect((await fetch(toolUrl(digest), { headers: bearer(TOKENS.T_WORKER) })).status).toBe(403);
    const { worker, assignment } = await holdJob('tool-reader');
    for (const token of [TOKENS.T_READ, assignment.attemptToken]) {
      const allowed = await fetch(toolUrl(digest), { headers: bearer(token) });
      expect(allowed.status).toBe(200);
      // Only a token reads it here, so no shared cache may keep it.
      expect(allowed.headers.get('cache-control')).toBe('private, max-age=31536000, immutable');
      expect(Buffer.from(await allowed.arrayBuffer())).toEqual(secret);
    }
    await worker
      .withToken(assignment.attemptToken)
      .attemptFinished(assignment.attemptId, { result: 'success', finishedAt: new Date().toISOString() });
    // A digest the store does not hold looks like an internal tool to a stranger: it tells nothing.
    const unknown = sha512(Buffer.from('nothing'));
    expect((await fetch(toolUrl(unknown))).status).toBe(401);
    const missing = await fetch(toolUrl(unknown), { headers: bearer(TOKENS.T_READ) });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: { code: 'not-found' } });
    expect((await fetch(toolUrl('0'.repeat(127)), { headers: bearer(TOKENS.T_READ) })).status).toBe(400);
  });

  it('lists tools newest first, by filename on request, to readers only', async () => {
    const tools = await reader.listTools();
    expect(tools.map((t) => [t.sha512, t.filenames])).toEqual([
      [sha512(secret), ['signing-kit.zip']],
      [sha512(compiler), ['gcc.tar.xz', 'gcc-13.tar.xz']],
    ]);
    const byName = await reader.listTools({ filename: 'gcc-13.tar.xz' });
    expect(byName.map((t: ToolRecord) => t.sha512)).toEqual([sha512(compiler)]);
    expect(await reader.listTools({ filename: 'nope.zip' })).toEqual([]);
    expect((await fetch(`${server.url}/api/v1/tools`)).status).toBe(401);
  });

  it('keeps a tool across a restart of the coordinator', async () => {
    await server.kill();
    await start();
    const tools = await reader.listTools();
    expect(tools.map((t) => t.sha512)).toEqual([sha512(secret), sha512(compiler)]);
    const again = await fetch(toolUrl(sha512(compiler)));
    expect(Buffer.from(await again.arrayBuffer())).toEqual(compiler);
    const dedup = await upload(compiler, { [TOOL_VISIBILITY_HEADER]: 'public' });
    expect([dedup.status, dedup.bodySent]).toEqual([200, false]);
  });

  it("the collector keeps a tool's blob; deleting the tool lets it go", async () => {
    const digest = sha512(secret);
    expect(await admin.collectArtifacts()).toMatchObject({ deletedBlobs: 0 });
    expect(existsSync(blobFile(sha256(secret)))).toBe(true);

    const deleteUrl = toolUrl(digest);
    expect((await fetch(deleteUrl, { method: 'DELETE', headers: bearer(TOKENS.T_PUSH) })).status).toBe(403);
    await admin.deleteTool(digest);
    await expect(admin.deleteTool(digest)).rejects.toMatchObject({ status: 404 });
    expect((await fetch(toolUrl(digest), { headers: bearer(TOKENS.T_READ) })).status).toBe(404);
    expect((await reader.listTools()).map((t) => t.sha512)).toEqual([sha512(compiler)]);

    expect(await admin.collectArtifacts()).toEqual({
      expiredArtifacts: 0,
      deletedBlobs: 1,
      freedBytes: secret.length,
    });
    expect(existsSync(blobFile(sha256(secret)))).toBe(false);
    expect(existsSync(blobFile(sha256(compiler)))).toBe(true);
  });

  it("counts a tool's bytes as stored but leaves the artifacts' dedup ratio alone", async () => {
    const before = await reader.artifactStats();
    const content = randomBytes(20_000);
    expect((await upload(content, { [TOOL_FILENAME_HEADER]: 'only-a-tool.bin' })).status).toBe(201);
    const after = await reader.artifactStats();
    expect(after.storedBytes).toBe(before.storedBytes + content.length);
    expect(after.dedupRatio).toBe(before.dedupRatio);
  });

  it('stores the same bytes once when they are both an artifact and a tool', async () => {
    const content = randomBytes(30_000);
    const { assignment } = await holdJob('tool-test-holder');
    const artifactUrl = `${server.url}/api/v1/jobs/${assignment.job.id}/artifacts/toolchain.zip`;
    const asArtifact = await put(artifactUrl, content, {
      ...bearer(assignment.attemptToken),
      [CONTENT_SHA256_HEADER]: sha256(content),
    });
    expect(asArtifact.status).toBe(201);
    const blobsWithArtifact = blobFiles();

    const asTool = await upload(content, { [TOOL_FILENAME_HEADER]: 'toolchain.zip' });
    expect(asTool.status).toBe(201);
    expect(asTool.json).toMatchObject({ sha256: sha256(content) });
    expect(blobFiles()).toEqual(blobsWithArtifact);
    const stats = await reader.artifactStats();
    expect(stats.blobs).toBe(blobsWithArtifact.length);

    // Without the tool, the artifact still names the blob.
    await admin.deleteTool(sha512(content));
    expect(await admin.collectArtifacts()).toMatchObject({ deletedBlobs: 0 });
    expect(existsSync(blobFile(sha256(content)))).toBe(true);
  });
});

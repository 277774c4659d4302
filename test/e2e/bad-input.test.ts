import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { SwitchyardClient } from '@switchyard/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectEvents, waitForPushFinal } from '../helpers/events.ts';
import { TestFarm } from '../helpers/farm.ts';
import { waitUntil } from '../helpers/pids.ts';
import {
  freePort,
  killAll,
  runSwitchyard,
  startServer,
  startWorker,
  switchyardCommand,
  type TestServer,
} from '../helpers/processes.ts';

const GOOD = `
repos: [{ name: demo, url: $REPO }]
builders:
  - { name: build, repo: demo, pool: linux, steps: [{ name: b, run: "true" }] }
`;

describe('bad configuration', () => {
  const farm = new TestFarm();
  afterAll(() => farm.remove());

  it('`switchyard validate` names the file, the path and what was expected', async () => {
    const file = join(farm.dir, 'bad.yml');
    writeFileSync(
      file,
      `repos: [{ name: demo, url: /x }]
builders:
  - { name: build, repo: demo, pool: linux, steps: [{ name: b, run: "true" }] }
  - { name: test, repo: demo, pool: linux, after: biuld, steps: [{ name: t, run: "true" }] }
`,
    );
    const result = await switchyardCommand(['validate', file]);
    expect(result.code).toBe(1);
    expect(result.output).toContain(file);
    expect(result.output).toContain('builders[1].after: expected the name of a builder, got "biuld"');

    const ok = await switchyardCommand(['validate', farm.writeConfig(GOOD)]);
    expect(ok.code).toBe(0);
    expect(ok.output).toContain('valid');
  });

  it('`switchyard server` refuses to start on an invalid config', async () => {
    const file = join(farm.dir, 'cycle.yml');
    writeFileSync(
      file,
      `repos: [{ name: demo, url: /x }]
builders:
  - { name: a, repo: demo, pool: linux, after: b, steps: [{ name: s, run: "true" }] }
  - { name: b, repo: demo, pool: linux, after: a, steps: [{ name: s, run: "true" }] }
`,
    );
    const result = await switchyardCommand([
      'server',
      '--config',
      file,
      '--data',
      join(farm.dir, 'data'),
      '--port',
      '0',
    ]);
    expect(result.code).not.toBe(0);
    expect(result.output).toContain('dependency cycle: a → b → a');
  });
});

describe('bad API input gets a 4xx with a JSON error, never a 500', () => {
  const farm = new TestFarm();
  let server: TestServer;
  const call = async (method: string, path: string, body?: string, headers: Record<string, string> = {}) => {
    const response = await fetch(`${server.url}${path}`, {
      method,
      body,
      headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    });
    return { status: response.status, body: (await response.json()) as { error: { code: string; message: string } } };
  };

  beforeAll(async () => {
    server = await startServer({ config: farm.writeConfig(GOOD), data: farm.data });
  });
  afterAll(async () => {
    await killAll();
    farm.remove();
  });

  it.each([
    ['POST', '/api/v1/pushes', '{"repo": "demo", ', 400, 'invalid-request'],
    ['POST', '/api/v1/pushes', '{"repo": "demo", "branch": "main"}', 400, 'invalid-request'],
    ['POST', '/api/v1/pushes', '{"repo": "demo", "branch": "main", "revision": "not-a-sha"}', 400, 'invalid-request'],
    ['POST', '/api/v1/pushes', '{"repo": "nope", "branch": "main", "revision": "abcdef0"}', 400, 'invalid-request'],
    [
      'POST',
      '/api/v1/pushes',
      '{"repo": "demo", "branch": "main", "revision": "abcdef0", "extra": 1}',
      400,
      'invalid-request',
    ],
    ['POST', '/api/v1/pushes', '[]', 400, 'invalid-request'],
    [
      'POST',
      '/api/v1/pushes',
      '{"repo": "demo", "branch": "ma\\u0000in", "revision": "abcdef0"}',
      400,
      'invalid-request',
    ],
    [
      'POST',
      '/api/v1/pushes',
      '{"repo": "demo", "branch": "main\\u202e", "revision": "abcdef0"}',
      400,
      'invalid-request',
    ],
    [
      'POST',
      '/api/v1/pushes',
      '{"repo": "demo", "branch": "main\\ud800", "revision": "abcdef0"}',
      400,
      'invalid-request',
    ],
    ['GET', '/api/v1/jobs/12345', undefined, 404, 'not-found'],
    ['GET', '/api/v1/jobs/1.9', undefined, 400, 'invalid-request'],
    ['POST', '/api/v1/jobs/0x1/cancel', undefined, 400, 'invalid-request'],
    ['GET', '/api/v1/events?since=1e300', undefined, 400, 'invalid-request'],
    ['GET', '/api/v1/jobs/-3', undefined, 400, 'invalid-request'],
    ['GET', '/api/v1/jobs?state=exploded', undefined, 400, 'invalid-request'],
    ['GET', '/api/v1/pushes?limit=100000', undefined, 400, 'invalid-request'],
    ['POST', '/api/v1/jobs/12345/cancel', undefined, 404, 'not-found'],
    ['POST', '/api/v1/workers/w1/claim', '{"pool": "linux", "waitSeconds": 9999}', 400, 'invalid-request'],
    ['POST', '/api/v1/workers/bad name/claim', '{"pool": "linux"}', 400, 'invalid-request'],
    ['POST', '/api/v1/attempts/77/heartbeat', undefined, 404, 'not-found'],
    [
      'POST',
      '/api/v1/attempts/77/finished',
      '{"result": "great", "finishedAt": "2026-01-01T00:00:00Z"}',
      401,
      'unauthenticated',
    ],
    ['GET', '/api/v1/nothing-here', undefined, 404, 'not-found'],
  ])('%s %s %s → %i', async (method, path, body, status, code) => {
    const result = await call(method, path, body);
    expect(result.status).toBe(status);
    expect(result.body.error.code).toBe(code);
    expect(result.body.error.message.length).toBeGreaterThan(0);
  });

  it("refuses an attempt's malformed reports, sent with its own credential, and wrong content types", async () => {
    await server.client.createPush({ repo: 'demo', branch: 'main', revision: 'abcdef0' });
    const assignment = await server.client.claim('bad-input-holder', { pool: 'linux', waitSeconds: 5 });
    const { attemptId, attemptToken } = assignment as NonNullable<typeof assignment>;
    const asAttempt = { authorization: `Bearer ${attemptToken}` };
    const unknownResult = await call(
      'POST',
      `/api/v1/attempts/${attemptId}/finished`,
      '{"result": "great", "finishedAt": "2026-01-01T00:00:00Z"}',
      asAttempt,
    );
    expect(unknownResult.status).toBe(400);
    expect(unknownResult.body.error.code).toBe('invalid-request');
    const frames = await fetch(`${server.url}/api/v1/attempts/${attemptId}/log?step=0&seq=0`, {
      method: 'POST',
      headers: { 'content-type': 'application/vnd.switchyard.log-frames', ...asAttempt },
      body: Buffer.from([0x6f, 0, 0, 0, 9, 0x41]),
    });
    expect(frames.status).toBe(400);
    expect(await frames.json()).toMatchObject({ error: { code: 'invalid-log-frames' } });
    const text = await fetch(`${server.url}/api/v1/pushes`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'hello',
    });
    expect(text.status).toBe(415);
    expect(await text.json()).toMatchObject({ error: { code: 'unsupported-media-type' } });
  });

  it('refuses a body over the limit with 413 before reading it', async () => {
    // Declare a 5 MiB body and send none of it: the answer must come from the headers alone.
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(`${server.url}/api/v1/pushes`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': String(5 * 1024 * 1024) },
      });
      req.on('error', reject);
      req.on('response', (res) => {
        let body = '';
        res.on('data', (d: Buffer) => {
          body += d.toString();
        });
        res.on('end', () => {
          req.destroy();
          resolve({ status: res.statusCode ?? 0, body });
        });
      });
      req.flushHeaders();
    });
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.body)).toMatchObject({ error: { code: 'payload-too-large' } });
  });
});

describe('tokens and scopes', () => {
  const farm = new TestFarm();
  let server: TestServer;
  const pushToken = 'push-secret';
  const workerToken = 'worker-secret';

  beforeAll(async () => {
    const sha = createHash('sha256').update(pushToken).digest('hex');
    farm.writeConfig(`
repos: [{ name: demo, url: $REPO }]
builders:
  - { name: whoami, repo: demo, pool: linux, checkout: false, steps: [{ name: s, run: 'echo "token=\${SWITCHYARD_TOKEN:-none}"' }] }
auth:
  public_read: false
  tokens:
    - { name: ci, sha256: ${sha}, scopes: [push, read] }
    - { name: workers, env: WORKER_TOKEN, scopes: [worker] }
`);
    server = await startServer({ config: farm.config, data: farm.data, env: { WORKER_TOKEN: workerToken } });
  });
  afterAll(async () => {
    await killAll();
    farm.remove();
  });

  const push = (token?: string) =>
    fetch(`${server.url}/api/v1/pushes`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ repo: 'demo', branch: 'main', revision: 'abcdef0' }),
    });

  it('needs a token with the right scope', async () => {
    expect((await push()).status).toBe(401);
    expect((await push('guess')).status).toBe(401);
    const forbidden = await push(workerToken);
    expect(forbidden.status).toBe(403);
    expect(await forbidden.json()).toMatchObject({
      error: { code: 'forbidden', message: 'token "workers" lacks the "push" scope' },
    });
    expect((await push(pushToken)).status).toBe(201);
  });

  it('protects reads when public_read is false', async () => {
    expect((await fetch(`${server.url}/api/v1/pushes`)).status).toBe(401);
    const allowed = await fetch(`${server.url}/api/v1/pushes`, { headers: { authorization: `Bearer ${pushToken}` } });
    expect(allowed.status).toBe(200);
  });

  it("runs jobs on a worker that has the worker token, and keeps that token from the job's steps", async () => {
    startWorker({
      server: server.url,
      name: 'w1',
      pool: 'linux',
      workDir: farm.workerDir('w1'),
      env: { SWITCHYARD_TOKEN: workerToken },
    });
    const reader = new SwitchyardClient({ server: server.url, token: pushToken });
    const push = await reader.createPush({ repo: 'demo', branch: 'main', revision: 'abcdef1' });
    const done = await waitForPushFinal(reader, push.id);
    expect(done.jobs[0]?.state).toBe('success');
    let log = '';
    for await (const chunk of reader.log(done.jobs[0]?.id as number, { stream: 'stdout' }))
      log += Buffer.from(chunk).toString();
    expect(log).toBe('token=none\n');
  });

  it('lets the CLI use $SWITCHYARD_TOKEN', async () => {
    const denied = await switchyardCommand(['status', '--server', server.url]);
    expect(denied.code).toBe(1);
    expect(denied.output).toContain('401');
    const allowed = await switchyardCommand(['status', '--server', server.url], { SWITCHYARD_TOKEN: pushToken });
    expect(allowed.code).toBe(0);
  });
});

describe('a server without an auth section', () => {
  const farm = new TestFarm();
  afterAll(async () => {
    await killAll();
    farm.remove();
  });

  it('binds to loopback only, whatever --host says, and says so', async () => {
    const port = await freePort();
    const args = ['server', '--config', farm.writeConfig(GOOD), '--data', farm.data, '--port', String(port)];
    const server = runSwitchyard([...args, '--host', '0.0.0.0']);
    await waitUntil(() => server.output().includes('listening on http://127.0.0.1'), 20_000, 'the server to listen');
    // The warning goes through the logger, whose writes may reach the pipe after the plain line.
    await waitUntil(
      () => server.output().includes('binding to 127.0.0.1 only, not 0.0.0.0'),
      5_000,
      'the warning that it binds to 127.0.0.1 only',
    );
    expect((await fetch(`http://127.0.0.1:${port}/api/v1/server`)).status).toBe(200);
  });
});

describe('SIGHUP reloads the config', () => {
  const farm = new TestFarm();
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ config: farm.writeConfig(GOOD), data: farm.data });
  });
  afterAll(async () => {
    await killAll();
    farm.remove();
  });

  it('keeps the old config when the new one is invalid, and takes a valid one', async () => {
    const before = await server.client.createPush({ repo: 'demo', branch: 'main', revision: 'abcdef0' });
    farm.writeConfig(`${GOOD}  - { name: broken, repo: missing, pool: linux, steps: [{ name: b, run: "true" }] }\n`);
    server.child.kill('SIGHUP');
    await waitUntil(() => server.output().includes('reload refused'), 10_000, 'the refusal in the log');
    expect((await server.client.info()).builders.map((b) => b.name)).toEqual(['build']);

    farm.writeConfig(`${GOOD}  - { name: docs, repo: demo, pool: linux, steps: [{ name: d, run: "true" }] }\n`);
    server.child.kill('SIGHUP');
    await waitUntil(() => server.output().includes('configuration reloaded'), 10_000, 'the reload');
    expect((await server.client.info()).builders.map((b) => b.name)).toEqual(['build', 'docs']);
    const [reloaded] = await collectEvents(server.client, (seen) => seen.length === 1, { types: ['config.reloaded'] });
    expect(reloaded?.data).toEqual({ builders: 2, repos: 1 });
    const after = await server.client.createPush({ repo: 'demo', branch: 'main', revision: 'abcdef0' });
    expect(after.jobs.map((j) => j.builder)).toEqual(['build', 'docs']);
    // State survives the reload.
    expect((await server.client.getPush(before.id)).jobs).toHaveLength(1);
  });
});

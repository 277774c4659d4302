import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestKeys, writeTestSignerConfig } from '@switchyard/signing/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Origin, startOrigin } from '../../packages/proxy/src/testing/origin.ts';
import { freePort, killAll, runSwitchyard, type TestProcess } from '../helpers/processes.ts';
import { functionsOf, readCpuProfile, readHeapSnapshot } from '../helpers/profiles.ts';
import { startProxyProcess, type TestProxy } from '../helpers/proxy.ts';

const ADMIN = 'the-admin-token-of-this-farm';

const dir = mkdtempSync(join(tmpdir(), 'switchyard-profile-'));
afterAll(async () => {
  await killAll();
  rmSync(dir, { recursive: true, force: true });
});

const profile = (server: string, args: string[], token?: string) =>
  runSwitchyard(['profile', '--server', server, ...args], token ? { SWITCHYARD_TOKEN: token } : {});

const post = (url: string, token?: string) =>
  fetch(url, { method: 'POST', headers: token ? { authorization: `Bearer ${token}` } : {} });

async function metricsOf(url: string): Promise<string> {
  return (await fetch(`${url}/metrics`)).text();
}

describe('the proxy profiles itself', () => {
  let origin: Origin;
  let proxy: TestProxy;

  beforeAll(async () => {
    origin = await startOrigin((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain', 'cache-control': 'max-age=0, must-revalidate' });
      res.end('a file from the origin\n');
    });
    const tokenFile = join(dir, 'proxy-admin-token');
    writeFileSync(tokenFile, `${ADMIN}\n`, { mode: 0o600 });
    proxy = await startProxyProcess({
      cacheDir: join(dir, 'proxy-cache'),
      maxSize: '64MiB',
      upstreams: [`files=${origin.url}`],
      args: ['--admin-token-file', tokenFile],
    });
  });
  afterAll(() => origin?.close());

  it('takes a CPU profile while it serves, naming its own functions', async () => {
    const out = join(dir, 'proxy.cpuprofile');
    const taking = profile(proxy.url, ['--seconds', '2', '--out', out], ADMIN);
    for (let requests = 0; taking.child.exitCode === null && requests < 3000; requests += 10) {
      await Promise.all(
        Array.from({ length: 10 }, (_, i) => fetch(`${proxy.url}/files/file-${i}.txt`).then((r) => r.text())),
      );
    }
    expect(await taking.exited, taking.output()).toBe(0);
    expect(functionsOf(readCpuProfile(out), '/packages/proxy/src/').length).toBeGreaterThan(0);
  });

  it('takes a heap snapshot', { timeout: 120_000 }, async () => {
    const out = join(dir, 'proxy.heapsnapshot');
    const taking = profile(proxy.url, ['--heap', '--out', out], ADMIN);
    expect(await taking.exited, taking.output()).toBe(0);
    expect(readHeapSnapshot(out)).toContain('EntryStore');
  });

  it('lets only its admin token profile, one at a time, for 1 to 300 seconds', async () => {
    expect((await post(`${proxy.url}/_profile/cpu?seconds=1`)).status).toBe(401);
    expect((await post(`${proxy.url}/_profile/heap`, 'not-the-token')).status).toBe(403);
    for (const seconds of ['0', '301', 'x']) {
      const refused = await post(`${proxy.url}/_profile/cpu?seconds=${seconds}`, ADMIN);
      expect(refused.status).toBe(400);
    }
    // Sampling runs from the answer's headers until its 300 s are up or its client leaves.
    const leave = new AbortController();
    const first = await fetch(`${proxy.url}/_profile/cpu?seconds=300`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}` },
      signal: leave.signal,
    });
    expect(first.status).toBe(200);
    const second = await post(`${proxy.url}/_profile/heap`, ADMIN);
    expect(second.status).toBe(409);
    expect(((await second.json()) as { error: { code: string } }).error.code).toBe('conflict');
    leave.abort();
  });

  it('has per-route latencies and the process metrics in /metrics', async () => {
    const text = await metricsOf(proxy.url);
    expect(text).toMatch(
      /^switchyard_proxy_http_request_duration_seconds_count\{method="GET",route="\/files\/\*",status_class="2xx"\} \d+$/m,
    );
    expect(text).toMatch(
      /^switchyard_proxy_http_long_request_duration_seconds_count\{method="POST",route="\/_profile\/cpu",status_class="2xx"\} \d+$/m,
    );
    expect(text).not.toMatch(/route="\/files\/file-/);
    for (const name of ['eventloop_lag_seconds', 'gc_duration_seconds', 'heap_size_used_bytes', 'active_handles']) {
      expect(text).toMatch(new RegExp(`^# TYPE switchyard_proxy_nodejs_${name} `, 'm'));
    }
  });

  it('lets nobody profile when started without an admin token', async () => {
    const open = await startProxyProcess({
      cacheDir: join(dir, 'open-cache'),
      maxSize: '1MiB',
      upstreams: [`files=${origin.url}`],
    });
    const refused = await post(`${open.url}/_profile/cpu?seconds=1`, ADMIN);
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toContain(
      'without an admin token',
    );
    await open.kill();
  });
});

describe('the signer profiles itself', () => {
  let signer: TestProcess;
  let url: string;

  beforeAll(async () => {
    const keys = await createTestKeys(join(dir, 'keys'));
    const signerDir = join(dir, 'signer');
    const { file, env } = await writeTestSignerConfig({ dir: mkdtempSync(`${signerDir}-`), keys });
    // What an operator adds to let the on-call engineer profile it.
    writeFileSync(file, `admin:\n  token_env: SIGNER_ADMIN_TOKEN\n`, { flag: 'a' });
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    signer = runSwitchyard(['signer', '--config', file, '--listen', `127.0.0.1:${port}`], {
      ...env,
      SIGNER_ADMIN_TOKEN: ADMIN,
    });
    for (let tries = 0; !signer.output().includes('listening on'); tries++) {
      if (tries > 300 || signer.child.exitCode !== null)
        throw new Error(`the signer did not start:\n${signer.output()}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  });

  it('takes a CPU profile for its admin token only', async () => {
    const out = join(dir, 'signer.cpuprofile');
    const taking = profile(url, ['--seconds', '1', '--out', out], ADMIN);
    for (let requests = 0; taking.child.exitCode === null && requests < 3000; requests += 10) {
      await Promise.all(Array.from({ length: 10 }, () => fetch(`${url}/api/v1/keys`).then((r) => r.text())));
    }
    expect(await taking.exited, taking.output()).toBe(0);
    readCpuProfile(out);

    expect((await post(`${url}/_profile/cpu?seconds=1`)).status).toBe(401);
    expect((await post(`${url}/_profile/cpu?seconds=1`, 'a-signing-token-is-not-enough')).status).toBe(403);
    expect((await post(`${url}/_profile/cpu?seconds=0`, ADMIN)).status).toBe(400);
  });

  it('refuses heap snapshots unless its config allows them: one holds whatever the heap holds', async () => {
    const refused = await post(`${url}/_profile/heap`, ADMIN);
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toContain(
      'admin.heap_snapshots: true',
    );
  });

  it('has per-route latencies and the process metrics in /metrics', async () => {
    const text = await metricsOf(url);
    expect(text).toMatch(
      /^switchyard_signer_http_request_duration_seconds_count\{method="GET",route="\/api\/v1\/keys",status_class="2xx"\} \d+$/m,
    );
    expect(text).toMatch(
      /^switchyard_signer_http_long_request_duration_seconds_count\{method="POST",route="\/_profile\/cpu",status_class="2xx"\} \d+$/m,
    );
    for (const name of ['eventloop_lag_seconds', 'gc_duration_seconds', 'heap_size_used_bytes', 'active_handles']) {
      expect(text).toMatch(new RegExp(`^# TYPE switchyard_signer_nodejs_${name} `, 'm'));
    }
  });
});

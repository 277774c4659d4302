import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestFarm } from '../helpers/farm.ts';
import { killAll, startServer, switchyardCommand, type TestServer } from '../helpers/processes.ts';
import { startProxyProcess, type TestProxy } from '../helpers/proxy.ts';

const TOKENS = { T_PUSH: 'push-secret', T_READ: 'read-secret' };

const config = `
repos: [{ name: demo, url: $REPO }]
builders:
  - name: build
    repo: demo
    pool: linux
    branches: [main]
    steps: [{ name: build, run: "true" }]
auth:
  public_read: false
  tokens:
    - { name: uploader, env: T_PUSH, scopes: [push] }
    - { name: reader, env: T_READ, scopes: [read] }
`;

describe('switchyard tools against a real coordinator: a tooltool manifest round trip', () => {
  const farm = new TestFarm();
  let server: TestServer;
  let proxy: TestProxy;
  let store: string;
  const src = join(farm.dir, 'src');
  const manifest = join(src, 'manifest.tt');
  const compiler = randomBytes(512 * 1024);
  const notes = Buffer.from('release notes\n');

  const tools = (...args: string[]) => switchyardCommand(['tools', ...args]);

  beforeAll(async () => {
    farm.writeConfig(config);
    server = await startServer({ config: farm.config, data: farm.data, env: TOKENS });
    proxy = await startProxyProcess({
      cacheDir: join(farm.dir, 'proxy-cache'),
      maxSize: '1GiB',
      upstreams: [`artifacts=${server.url}`],
    });
    store = `${server.url}/api/v1/tools`;
    mkdirSync(join(src, 'stage/cc/bin'), { recursive: true });
    writeFileSync(join(src, 'stage/cc/bin/cc'), compiler, { mode: 0o755 });
    execFileSync('tar', ['-cJf', join(src, 'cc.tar.xz'), '-C', join(src, 'stage'), 'cc']);
    writeFileSync(join(src, 'NOTES.txt'), notes);
  });
  afterAll(async () => {
    await killAll();
    farm.remove();
  });

  it('adds, uploads (a second upload sends no bytes), fetches into a fresh directory, and validates', async () => {
    const internal = await tools('add', '-m', manifest, '--visibility', 'internal', '--unpack', join(src, 'cc.tar.xz'));
    expect(internal.code, internal.output).toBe(0);
    expect((await tools('add', '-m', manifest, '--visibility', 'public', join(src, 'NOTES.txt'))).code).toBe(0);
    expect(JSON.parse(readFileSync(manifest, 'utf8'))).toMatchObject([
      { filename: 'cc.tar.xz', algorithm: 'sha512', unpack: true, visibility: 'internal' },
      { filename: 'NOTES.txt', size: notes.length, algorithm: 'sha512', visibility: 'public' },
    ]);

    const refused = await tools('upload', '-m', manifest, '--dir', src, '--url', store, '--token', TOKENS.T_READ);
    expect(refused.code).toBe(1);
    expect(refused.output).toMatch(/error: could not upload cc\.tar\.xz to .*: 403/);

    const first = await tools('upload', '-m', manifest, '--dir', src, '--url', store, '--token', TOKENS.T_PUSH);
    expect(first.code, first.output).toBe(0);
    expect(first.output).toMatch(/cc\.tar\.xz: uploaded .* \(internal\)/);
    expect(first.output).toContain('2 uploaded');
    const second = await tools('upload', '-m', manifest, '--dir', src, '--url', store, '--token', TOKENS.T_PUSH);
    expect(second.code, second.output).toBe(0);
    expect(second.output).toContain('cc.tar.xz: already stored; no bytes sent');
    expect(second.output).toContain('NOTES.txt: already stored; no bytes sent');
    expect(second.output).toContain('0 uploaded (0 B), 2 already in the store');

    const dest = join(farm.dir, 'fresh');
    const fetchArgs = ['fetch', '-m', manifest, '--dest', dest, '--cache-dir', join(farm.dir, 'cache')];
    const fetched = await tools(...fetchArgs, '--url', store, '--token', TOKENS.T_READ);
    expect(fetched.code, fetched.output).toBe(0);
    expect(fetched.output).toMatch(/tools: 2 of 2 in place in [\d.]+ s: 0 from the cache, 2 downloaded/);
    expect(readFileSync(join(dest, 'cc/bin/cc'))).toEqual(compiler);
    expect(readFileSync(join(dest, 'NOTES.txt'))).toEqual(notes);

    const validated = await tools('validate', '-m', manifest, '--dir', dest);
    expect(validated.code, validated.output).toBe(0);
    expect(validated.output).toContain('all 2 valid');
  });

  it('serves a public tool to anyone and an internal one only with a token, through a regional cache too', async () => {
    const dest = join(farm.dir, 'anonymous');
    const viaProxy = `${proxy.url}/artifacts/api/v1/tools`;
    const anonymous = await tools(
      'fetch',
      '-m',
      manifest,
      '--dest',
      dest,
      '--cache-dir',
      join(farm.dir, 'c2'),
      '--url',
      store,
    );
    expect(anonymous.code).toBe(1);
    expect(anonymous.output).toContain('NOTES.txt: downloaded');
    expect(anonymous.output).toMatch(/error: could not fetch a tool: cc\.tar\.xz: .*HTTP 401/);

    const throughCache = await tools(
      'fetch',
      '-m',
      manifest,
      '--dest',
      join(farm.dir, 'regional'),
      '--cache-dir',
      join(farm.dir, 'c3'),
      '--url',
      viaProxy,
      '--url',
      store,
      '--token',
      TOKENS.T_READ,
    );
    expect(throughCache.code, throughCache.output).toBe(0);
    expect(throughCache.output).toContain(`NOTES.txt: downloaded 14 B from ${viaProxy}/sha512/`);
    expect(readFileSync(join(farm.dir, 'regional/cc/bin/cc'))).toEqual(compiler);
  });
});

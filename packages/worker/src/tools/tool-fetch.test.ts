import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startToolServer, type TestToolServer } from '../testing/tool-server.ts';
import { formatManifest, type ToolManifestRecord } from './manifest.ts';
import { type FetchToolsOptions, fetchTools, ToolFetchError } from './tool-fetch.ts';

const sha512 = (content: Buffer) => createHash('sha512').update(content).digest('hex');

describe('fetchTools', () => {
  let server: TestToolServer;
  let dir: string;
  let lines: string[];

  beforeEach(async () => {
    server = await startToolServer();
    dir = mkdtempSync(join(tmpdir(), 'tool-fetch-'));
    lines = [];
  });
  afterEach(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Stores each file on the server and writes a manifest listing them. */
  function manifestOf(files: Record<string, Buffer>, extra: Partial<ToolManifestRecord> = {}): string {
    const records = Object.entries(files).map(([filename, content]) => ({
      filename,
      size: content.length,
      digest: server.add(content),
      algorithm: 'sha512' as const,
      ...extra,
    }));
    const path = join(dir, `manifest-${Object.keys(files).join('-')}.tt`);
    writeFileSync(path, formatManifest(records));
    return path;
  }

  function options(manifest: string, dest: string, overrides: Partial<FetchToolsOptions> = {}): FetchToolsOptions {
    return {
      manifest,
      dest: join(dir, dest),
      cacheDir: join(dir, 'cache'),
      maxCacheBytes: 1024 * 1024,
      urls: [server.url],
      log: (line) => lines.push(line),
      retryInitialMs: 5,
      ...overrides,
    };
  }

  it('downloads into an empty cache, then serves from the cache without a request, then keeps what is there', async () => {
    const gcc = Buffer.from('gcc toolchain '.repeat(500));
    const sccache = Buffer.from('sccache binary');
    const manifest = manifestOf({ 'gcc.bin': gcc, 'sccache.bin': sccache });
    const first = await fetchTools(options(manifest, 'one'));
    expect(first).toMatchObject({ cacheHits: 0, downloads: 2, downloadedBytes: gcc.length + sccache.length });
    expect(first.files.map((file) => [file.filename, file.source, file.url])).toEqual([
      ['gcc.bin', 'download', `${server.url}/sha512/${sha512(gcc)}`],
      ['sccache.bin', 'download', `${server.url}/sha512/${sha512(sccache)}`],
    ]);
    expect(server.gets()).toBe(2);
    expect(readFileSync(join(dir, 'one/gcc.bin'))).toEqual(gcc);
    expect(readdirSync(join(dir, 'cache')).sort()).toEqual(['.locks', '.tmp', sha512(gcc), sha512(sccache)].sort());

    const second = await fetchTools(options(manifest, 'two'));
    expect(second).toMatchObject({ cacheHits: 2, downloads: 0, downloadedBytes: 0 });
    expect(server.gets()).toBe(2);
    expect(readFileSync(join(dir, 'two/sccache.bin'))).toEqual(sccache);

    const again = await fetchTools(options(manifest, 'one'));
    expect(again.files.map((file) => file.source)).toEqual(['present', 'present']);
    expect(readdirSync(join(dir, 'one')).sort()).toEqual(['gcc.bin', 'sccache.bin']);
    expect(lines.at(-1)).toMatch(
      /^tools: 2 of 2 in place in [\d.]+ s: 0 from the cache, 0 downloaded \(0 B\), 2 already there$/,
    );
    expect(lines).toContain(`gcc.bin: downloaded 6.8 KiB from ${server.url}/sha512/${sha512(gcc)}`);
    expect(lines).toContain('sccache.bin: from the cache (14 B)');
  });

  it('replaces a file in dest that does not match its record', async () => {
    const tool = Buffer.from('the real tool');
    const manifest = manifestOf({ 'tool.bin': tool });
    mkdirSync(join(dir, 'dest'));
    writeFileSync(join(dir, 'dest/tool.bin'), 'the real tooX');
    const report = await fetchTools(options(manifest, 'dest'));
    expect(report.files[0]?.source).toBe('download');
    expect(readFileSync(join(dir, 'dest/tool.bin'))).toEqual(tool);
    expect(lines).toContain('tool.bin: the file there has the wrong sha512; replacing it');
  });

  it('detects a tampered cached copy, removes it and fetches the tool again', async () => {
    const tool = Buffer.from('compiler '.repeat(100));
    const manifest = manifestOf({ 'cc.bin': tool });
    await fetchTools(options(manifest, 'one'));
    const cached = join(dir, 'cache', sha512(tool));
    const tampered = Buffer.from(tool);
    tampered.write('evil', 10);
    writeFileSync(cached, tampered);
    const report = await fetchTools(options(manifest, 'two'));
    expect(report.files[0]?.source).toBe('download');
    expect(server.gets(sha512(tool))).toBe(2);
    expect(lines).toContain('cc.bin: the cached copy has the wrong sha512; removed from the cache, fetching it again');
    expect(readFileSync(join(dir, 'two/cc.bin'))).toEqual(tool);
    expect(readFileSync(cached)).toEqual(tool);
  });

  it('rejects a wrong body from the server and leaves nothing in dest or the cache', async () => {
    const tool = Buffer.from('the genuine article');
    const manifest = manifestOf({ 'tool.bin': tool });
    server.answer = (_digest, response) => {
      response.end(Buffer.from('the genuine articlX'));
      return true;
    };
    const failed = fetchTools(options(manifest, 'dest'));
    await expect(failed).rejects.toThrow(ToolFetchError);
    await expect(failed).rejects.toThrow(/tool\.bin: .*got 19 bytes with sha512 [0-9a-f]+, expected 19 bytes/);
    // A wrong body is not worth asking the same URL for again.
    expect(server.gets()).toBe(1);
    server.answer = (_digest, response) => {
      response.end(Buffer.concat([tool, Buffer.from('and more')]));
      return true;
    };
    await expect(fetchTools(options(manifest, 'dest'))).rejects.toThrow(/more than the 19 bytes expected/);
    expect(readdirSync(join(dir, 'dest'))).toEqual([]);
    expect(readdirSync(join(dir, 'cache')).sort()).toEqual(['.locks', '.tmp']);
    expect(readdirSync(join(dir, 'cache/.tmp'))).toEqual([]);
  });

  it('falls back to the next URL when the first is down, missing the file, or serving it damaged', async () => {
    const tool = Buffer.from('fallback tool');
    const manifest = manifestOf({ 'tool.bin': tool });
    const down = 'http://127.0.0.1:9/tools';
    const report = await fetchTools(options(manifest, 'one', { urls: [down, server.url] }));
    expect(report.files[0]?.url).toBe(`${server.url}/sha512/${sha512(tool)}`);
    expect(lines.some((line) => line.startsWith(`tool.bin: ${down}/sha512/`))).toBe(true);

    const regional = await startToolServer();
    try {
      regional.answer = (_digest, response) => {
        response.writeHead(404).end();
        return true;
      };
      rmSync(join(dir, 'cache'), { recursive: true });
      const second = await fetchTools(options(manifest, 'two', { urls: [regional.url, server.url] }));
      expect(second.files[0]?.url).toContain(server.url);
      expect(regional.gets()).toBe(1);

      regional.answer = (_digest, response) => {
        response.end(Buffer.from('fallback toolX'.slice(1)));
        return true;
      };
      rmSync(join(dir, 'cache'), { recursive: true });
      const third = await fetchTools(options(manifest, 'three', { urls: [regional.url, server.url] }));
      expect(third.files[0]?.url).toContain(server.url);
      expect(readFileSync(join(dir, 'three/tool.bin'))).toEqual(tool);
    } finally {
      await regional.close();
    }
  });

  it('retries a 5xx with backoff, up to 5 requests in all', async () => {
    const tool = Buffer.from('flaky tool');
    const manifest = manifestOf({ 'tool.bin': tool });
    server.answer = (_digest, response) => {
      if (server.gets() > 2) return false;
      response.writeHead(503).end();
      return true;
    };
    const report = await fetchTools(options(manifest, 'one'));
    expect(report.downloads).toBe(1);
    expect(server.gets()).toBe(3);
    expect(lines.filter((line) => line.startsWith('tool.bin: trying again in '))).toHaveLength(2);

    server.answer = (_digest, response) => {
      response.writeHead(502).end();
      return true;
    };
    rmSync(join(dir, 'cache'), { recursive: true });
    await expect(fetchTools(options(manifest, 'two'))).rejects.toThrow(/HTTP 502/);
    expect(server.gets()).toBe(3 + 5);
  });

  it('follows a redirect to where the file is, without sending the token there', async () => {
    const tool = Buffer.from('stored elsewhere');
    const manifest = manifestOf({ 'tool.bin': tool });
    const storage = await startToolServer();
    storage.add(tool);
    let storageAuthorization: string | undefined = 'none seen';
    storage.answer = (_digest, _response, request) => {
      storageAuthorization = request.headers.authorization;
      return false;
    };
    server.answer = (digest, response) => {
      response.writeHead(302, { location: `${storage.url}/sha512/${digest}` }).end();
      return true;
    };
    try {
      await fetchTools(options(manifest, 'one', { token: 'secret' }));
      expect(readFileSync(join(dir, 'one/tool.bin'))).toEqual(tool);
      expect(storage.gets()).toBe(1);
      expect(storageAuthorization).toBeUndefined();
    } finally {
      await storage.close();
    }
  });

  describe('unpack', () => {
    /** An archive of `<stem>/bin/tool` made with the system's tar (or zip). */
    function archive(filename: string, stem: string, command: string[]): Buffer {
      const stage = mkdtempSync(join(dir, 'stage-'));
      mkdirSync(join(stage, stem, 'bin'), { recursive: true });
      writeFileSync(join(stage, stem, 'bin/tool'), `#!/bin/sh\necho ${filename}\n`);
      chmodSync(join(stage, stem, 'bin/tool'), 0o755);
      const [program = 'tar', ...args] = command;
      execFileSync(program, [...args, join(stage, filename), stem], { cwd: stage, stdio: 'pipe' });
      return readFileSync(join(stage, filename));
    }

    it.each([
      ['clang.tar.gz', ['tar', '-czf']],
      ['clang.tgz', ['tar', '-czf']],
      ['clang.tar.xz', ['tar', '-cJf']],
      ['clang.tar.bz2', ['tar', '-cjf']],
      ['clang.tar.zst', ['tar', '--zstd', '-cf']],
      ['clang.zip', ['zip', '-qr']],
    ])('unpacks a %s in dest, replacing the directory named after it', async (filename, command) => {
      const manifest = manifestOf({ [filename]: archive(filename, 'clang', command) }, { unpack: true });
      mkdirSync(join(dir, 'dest/clang'), { recursive: true });
      writeFileSync(join(dir, 'dest/clang/from-an-older-version'), 'stale');
      const report = await fetchTools(options(manifest, 'dest'));
      expect(report.files[0]?.unpacked).toBe(3);
      expect(execFileSync(join(dir, 'dest/clang/bin/tool'), { encoding: 'utf8' })).toBe(`${filename}\n`);
      expect(existsSync(join(dir, 'dest/clang/from-an-older-version'))).toBe(false);
      expect(readdirSync(join(dir, 'dest')).sort()).toEqual(['clang', filename].sort());
    });

    it('refuses an archive with a member climbing out of dest', async () => {
      const stage = mkdtempSync(join(dir, 'stage-'));
      writeFileSync(join(stage, 'payload'), 'x');
      execFileSync('tar', ['-czPf', 'evil.tar.gz', '--transform', 's,^,../,', 'payload'], { cwd: stage });
      const manifest = manifestOf({ 'evil.tar.gz': readFileSync(join(stage, 'evil.tar.gz')) }, { unpack: true });
      await expect(fetchTools(options(manifest, 'dest/inner'))).rejects.toThrow(
        /evil\.tar\.gz: refusing to unpack "evil\.tar\.gz": "\.\.\/payload" climbs out/,
      );
      expect(existsSync(join(dir, 'dest/payload'))).toBe(false);
    });
  });
});

import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ToolCache } from './tool-cache.ts';

const digestOf = (letter: string) => letter.repeat(128);

describe('ToolCache', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tool-cache-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** Puts `size` bytes in the cache under `digest`, as last used `ageSeconds` ago. */
  async function put(cache: ToolCache, digest: string, size: number, ageSeconds: number) {
    const temp = cache.tempPath(digest);
    writeFileSync(temp, Buffer.alloc(size));
    await cache.insert(digest, temp);
    const when = new Date(Date.now() - ageSeconds * 1000);
    utimesSync(cache.path(digest), when, when);
  }

  it('is a flat directory of files named by digest, mode 0700', async () => {
    const cache = new ToolCache(join(dir, 'cache'), 1000);
    await cache.open();
    await put(cache, digestOf('a'), 10, 0);
    expect(statSync(cache.dir).mode & 0o777).toBe(0o700);
    expect(readdirSync(cache.dir).sort()).toEqual(['.locks', '.tmp', digestOf('a')]);
    expect(await cache.lookup(digestOf('b'))).toBeNull();
  });

  it('evicts the least recently used files past its bound, and a hit counts as a use', async () => {
    const cache = new ToolCache(join(dir, 'cache'), 250);
    await cache.open();
    await put(cache, digestOf('a'), 100, 300);
    await put(cache, digestOf('b'), 100, 200);
    expect(await cache.lookup(digestOf('a'))).toBe(cache.path(digestOf('a')));
    await put(cache, digestOf('c'), 100, 0);
    expect((await cache.list()).map((tool) => tool.digest).sort()).toEqual([digestOf('a'), digestOf('c')]);
  });

  it('keeps a file just added even when it alone is larger than the bound', async () => {
    const cache = new ToolCache(join(dir, 'cache'), 50);
    await cache.open();
    await put(cache, digestOf('a'), 10, 100);
    await put(cache, digestOf('b'), 100, 0);
    expect((await cache.list()).map((tool) => tool.digest)).toEqual([digestOf('b')]);
  });

  it('purges until enough is free, or everything with 0, and temporary files nobody is writing', async () => {
    const cache = new ToolCache(join(dir, 'cache'), 10_000);
    await cache.open();
    await put(cache, digestOf('a'), 100, 200);
    await put(cache, digestOf('b'), 100, 100);
    writeFileSync(cache.tempPath(digestOf('c')), 'left by a crash');
    expect(await cache.purge(1)).toEqual({ removed: 0, freedBytes: 0 });
    expect(readdirSync(join(cache.dir, '.tmp'))).toEqual([]);
    expect(await cache.purge(Number.MAX_SAFE_INTEGER)).toEqual({ removed: 2, freedBytes: 200 });
    await put(cache, digestOf('a'), 100, 0);
    expect(await cache.purge(0)).toEqual({ removed: 1, freedBytes: 100 });
    expect(await cache.list()).toEqual([]);
  });

  it('breaks the lock of a dead fetcher and deletes what it was writing', async () => {
    const cache = new ToolCache(join(dir, 'cache'), 10_000);
    await cache.open();
    const digest = digestOf('d');
    const half = cache.tempPath(digest);
    writeFileSync(half, 'half a download');
    const other = cache.tempPath(digestOf('e'));
    writeFileSync(other, 'someone else');
    const dead = spawnSync(process.execPath, ['-e', '0']).pid;
    const bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    mkdirSync(join(cache.dir, '.locks', digest));
    writeFileSync(
      join(cache.dir, '.locks', digest, 'owner.json'),
      JSON.stringify({
        pid: dead,
        host: hostname(),
        boot: bootId,
        purpose: 'fetching',
        since: new Date().toISOString(),
      }),
    );
    const lock = await cache.lock(digest, {});
    expect(lock.brokeStaleLock?.pid).toBe(dead);
    expect(existsSync(half)).toBe(false);
    expect(existsSync(other)).toBe(true);
    await lock.release();
  });
});

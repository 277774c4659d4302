import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SignedCache } from './signed-cache.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'signed-cache-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const key = (name: string) => createHash('sha256').update(name).digest('hex');

describe('SignedCache', () => {
  it('survives a restart, entries and order of use included', async () => {
    const first = await SignedCache.open(dir, 1000);
    const a = await first.put(key('a'), Buffer.from('signed a'));
    await first.put(key('b'), Buffer.from('signed b'));
    const reopened = await SignedCache.open(dir, 1000);
    expect(reopened.stats).toEqual({ entries: 2, bytes: 16 });
    expect((await reopened.get(key('a')))?.bytes.toString()).toBe('signed a');
    expect((await reopened.getOutput(a.sha256))?.toString()).toBe('signed a');
  });

  it('never serves an entry whose bytes no longer match their digest, and forgets it', async () => {
    const cache = await SignedCache.open(dir, 1000);
    const entry = await cache.put(key('a'), Buffer.from('signed a'));
    await writeFile(join(dir, 'entries', `${entry.key}.${entry.sha256}`), 'signed b');
    expect(await cache.get(key('a'))).toBeNull();
    expect(cache.peek(key('a'))).toBeNull();
    expect(await readdir(join(dir, 'entries'))).toEqual([]);
  });

  it('answers a lookup after a restart only once the entry is checked, and not at all when it is damaged', async () => {
    const first = await SignedCache.open(dir, 1000);
    const entry = await first.put(key('a'), Buffer.from('signed a'));
    await writeFile(join(dir, 'entries', `${entry.key}.${entry.sha256}`), 'signed b');
    const reopened = await SignedCache.open(dir, 1000);
    expect(reopened.peek(key('a'))).not.toBeNull();
    expect(await reopened.find(key('a'))).toBeNull();
    expect(reopened.peek(key('a'))).toBeNull();
  });

  it('evicts the least recently used entries past its bound, across a restart too', async () => {
    const cache = await SignedCache.open(dir, 20);
    await cache.put(key('a'), Buffer.alloc(8, 1));
    await cache.put(key('b'), Buffer.alloc(8, 2));
    await cache.get(key('a'));
    await cache.put(key('c'), Buffer.alloc(8, 3));
    expect([cache.peek(key('a')) !== null, cache.peek(key('b')) !== null, cache.peek(key('c')) !== null]).toEqual([
      true,
      false,
      true,
    ]);
    // Use is carried over restarts by the files' mtimes: make `c` the older one on disk.
    const old = new Date(Date.now() - 60_000);
    const c = cache.peek(key('c'));
    await utimes(join(dir, 'entries', `${c?.key}.${c?.sha256}`), old, old);
    const smaller = await SignedCache.open(dir, 10);
    expect([smaller.peek(key('a')) !== null, smaller.peek(key('c')) !== null]).toEqual([true, false]);
  });

  it('drops what a write interrupted before its rename left behind', async () => {
    await SignedCache.open(dir, 100);
    await writeFile(join(dir, 'entries', '.4d2c.tmp'), 'half an entry');
    const cache = await SignedCache.open(dir, 100);
    expect(cache.stats.entries).toBe(0);
    expect(await readdir(join(dir, 'entries'))).toEqual([]);
  });
});

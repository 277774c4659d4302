import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalBlobStore } from './local-blob-store.ts';

/** A request-like body: IncomingMessage says `complete` once its end arrived. */
function body(chunks: Buffer[], endsProperly = true): Readable {
  const stream = new PassThrough() as PassThrough & { complete: boolean };
  stream.complete = false;
  for (const chunk of chunks) stream.write(chunk);
  if (endsProperly) {
    stream.complete = true;
    stream.end();
  } else {
    setImmediate(() => stream.destroy());
  }
  return stream;
}

describe('LocalBlobStore', () => {
  let dir: string;
  let store: LocalBlobStore;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'blobs-'));
    store = new LocalBlobStore(dir);
    await store.init();
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('hashes while it writes, and puts the blob under its digest only on commit', async () => {
    const data = [Buffer.from('hello '), Buffer.from('world')];
    const digest = createHash('sha256').update('hello world').digest('hex');
    let counted = 0;
    const received = await store.receive(body(data), 1000, (n) => {
      counted += n;
    });
    expect(received).toMatchObject({ sha256: digest, sha512: null, size: 11 });
    expect(counted).toBe(11);
    expect(await store.size(digest)).toBeNull();
    await store.commit(received);
    expect(store.pathOf(digest)).toBe(join(dir, digest.slice(0, 2), digest.slice(2)));
    expect(readFileSync(store.pathOf(digest), 'utf8')).toBe('hello world');
    expect(readdirSync(join(dir, 'tmp'))).toEqual([]);
  });

  it('computes the sha512 in the same pass when asked, for the tool store', async () => {
    const data = [Buffer.from('tool '), Buffer.from('bytes')];
    const received = await store.receive(body(data), 1000, () => {}, { sha512: true });
    expect(received).toMatchObject({
      sha256: createHash('sha256').update('tool bytes').digest('hex'),
      sha512: createHash('sha512').update('tool bytes').digest('hex'),
      size: 10,
    });
    await store.discard(received);
  });

  it('puts a body of its own in one call, and fails with the error of a body that fails', async () => {
    const digest = createHash('sha256').update('step log').digest('hex');
    expect(await store.put(Readable.from([Buffer.from('step '), Buffer.from('log')]))).toEqual({
      sha256: digest,
      size: 8,
    });
    expect(readFileSync(store.pathOf(digest), 'utf8')).toBe('step log');
    async function* failing(): AsyncGenerator<Buffer> {
      yield Buffer.from('half a log');
      throw new Error('the database went away');
    }
    await expect(store.put(Readable.from(failing()))).rejects.toThrow('the database went away');
    expect(readdirSync(join(dir, 'tmp'))).toEqual([]);
  });

  it('stops at the limit with a 413 and keeps nothing', async () => {
    const chunks = Array.from({ length: 10 }, () => Buffer.alloc(100, 1));
    await expect(store.receive(body(chunks), 250, () => {})).rejects.toMatchObject({
      code: 'payload-too-large',
      status: 413,
    });
    expect(readdirSync(join(dir, 'tmp'))).toEqual([]);
  });

  it('refuses a body cut off before its end and keeps nothing', async () => {
    await expect(store.receive(body([Buffer.alloc(64)], false), 1000, () => {})).rejects.toMatchObject({
      code: 'invalid-request',
    });
    expect(readdirSync(join(dir, 'tmp'))).toEqual([]);
  });

  it('writes a body of many batches and past a background flush whole', async () => {
    // 70 MiB in 64 KiB chunks: writes gather while one runs, the body pauses when they pile up,
    // and the file is flushed once on the way (every 64 MiB) and once at the end.
    const chunks = Array.from({ length: 1120 }, (_, index) => Buffer.alloc(64 * 1024, index % 251));
    const digest = createHash('sha256');
    for (const chunk of chunks) digest.update(chunk);
    const received = await store.receive(Readable.from(chunks), Number.POSITIVE_INFINITY, () => {});
    expect(received).toMatchObject({ sha256: digest.digest('hex'), size: 70 * 2 ** 20 });
    const written = createHash('sha256').update(readFileSync(received.tempName)).digest('hex');
    expect(written).toBe(received.sha256);
    await store.discard(received);
  });

  it('refuses a body whose client left before it was read', async () => {
    const gone = body([Buffer.alloc(64)], false);
    await new Promise((resolve) => gone.once('close', resolve));
    await expect(store.receive(gone, 1000, () => {})).rejects.toMatchObject({ code: 'invalid-request' });
    expect(readdirSync(join(dir, 'tmp'))).toEqual([]);
  });

  it('forgets temporary files a crash left behind when it starts', async () => {
    const received = await store.receive(body([Buffer.from('x')]), 10, () => {});
    expect(readdirSync(join(dir, 'tmp'))).toHaveLength(1);
    await new LocalBlobStore(dir).init();
    expect(readdirSync(join(dir, 'tmp'))).toEqual([]);
    await store.discard(received);
  });
});

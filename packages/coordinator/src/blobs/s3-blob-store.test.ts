import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { CreateMultipartUploadCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Moto, startMoto } from '../../../../test/helpers/moto.ts';
import { openBlobStore } from './open-blob-store.ts';
import { S3BlobStore } from './s3-blob-store.ts';
import { S3KeyLayout } from './s3-location.ts';

const MiB = 1024 * 1024;
const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

/** A request-like body: IncomingMessage says `complete` once its end arrived. */
function body(data: Buffer, cutAfter?: number): Readable {
  const stream = new PassThrough() as PassThrough & { complete: boolean };
  stream.complete = false;
  const sent = cutAfter === undefined ? data : data.subarray(0, cutAfter);
  // In slices, so the store sees a stream and not one buffer.
  for (let at = 0; at < sent.length; at += MiB) stream.write(sent.subarray(at, at + MiB));
  if (cutAfter === undefined) {
    stream.complete = true;
    stream.end();
  } else {
    setTimeout(() => stream.destroy(), 50);
  }
  return stream;
}

describe('S3BlobStore against moto_server', () => {
  let moto: Moto;
  let store: S3BlobStore;
  let dir: string;
  const bucket = 'blob-store-test';

  beforeAll(async () => {
    moto = await startMoto();
    await moto.bucket(bucket);
    dir = mkdtempSync(join(tmpdir(), 's3-blobs-'));
    store = (await openBlobStore(
      {
        kind: 's3',
        location: { bucket, prefix: 'farm/' },
        client: {
          region: 'us-east-1',
          endpoint: moto.endpoint,
          forcePathStyle: true,
          credentials: { accessKeyId: 'moto', secretAccessKey: 'moto' },
        },
        redirectDownloads: true,
      },
      dir,
      // The smallest part S3 allows: a 12 MiB body is a multipart upload of three parts.
      { partBytes: 5 * MiB },
    )) as S3BlobStore;
  });

  afterAll(async () => {
    await moto?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('streams a multipart upload to tmp/ while hashing, and makes it visible under its digest only on commit', async () => {
    const data = randomBytes(12 * MiB);
    let counted = 0;
    const received = await store.receive(
      body(data),
      64 * MiB,
      (n) => {
        counted += n;
      },
      { sha512: true },
    );
    expect(received).toMatchObject({ sha256: sha256(data), size: data.length });
    expect(received.sha512).toBe(createHash('sha512').update(data).digest('hex'));
    expect(counted).toBe(data.length);
    expect(await store.size(received.sha256)).toBeNull();
    expect(await moto.keys(bucket, 'farm/tmp/')).toEqual([received.tempName]);
    await store.commit(received);
    expect(await moto.keys(bucket)).toEqual([`farm/sha256/${received.sha256}`]);
    expect(await store.size(received.sha256)).toBe(data.length);
    const whole = Buffer.concat(await (await store.open(received.sha256)).toArray());
    expect(sha256(whole)).toBe(received.sha256);
    const span = Buffer.concat(await (await store.open(received.sha256, { start: 100, end: 199 })).toArray());
    expect(span.equals(data.subarray(100, 200))).toBe(true);
    expect(await moto.openUploads(bucket)).toEqual([]);
  });

  it('commits the same bytes twice without error (create-if-absent: 412 means stored)', async () => {
    const first = await store.receive(body(Buffer.from('twice')), 100, () => {});
    await store.commit(first);
    const second = await store.receive(body(Buffer.from('twice')), 100, () => {});
    await store.commit(second);
    expect(await moto.keys(bucket, 'farm/tmp/')).toEqual([]);
    expect(await text(await store.open(sha256('twice')))).toBe('twice');
  });

  it('stores an empty body', async () => {
    const received = await store.receive(body(Buffer.alloc(0)), 100, () => {});
    expect(received).toMatchObject({ sha256: sha256(''), size: 0 });
    await store.commit(received);
    expect(await store.size(sha256(''))).toBe(0);
    await store.remove(sha256(''));
  });

  it('copies a body past the single-copy limit in parts', async () => {
    const parted = (await openBlobStore(
      {
        kind: 's3',
        location: { bucket, prefix: 'parted/' },
        client: {
          region: 'us-east-1',
          endpoint: moto.endpoint,
          forcePathStyle: true,
          credentials: { accessKeyId: 'moto', secretAccessKey: 'moto' },
        },
        redirectDownloads: false,
      },
      dir,
      { maxSingleCopyBytes: 6 * MiB, copyPartBytes: 5 * MiB },
    )) as S3BlobStore;
    const data = randomBytes(12 * MiB + 7);
    const received = await parted.receive(body(data), 64 * MiB, () => {});
    await parted.commit(received);
    expect(await moto.keys(bucket, 'parted/')).toEqual([`parted/sha256/${sha256(data)}`]);
    expect(sha256(Buffer.concat(await (await parted.open(sha256(data))).toArray()))).toBe(sha256(data));
    expect(await moto.openUploads(bucket)).toEqual([]);
  });

  it('refuses a body past the limit (413) and one cut off, leaving no object and no open multipart upload', async () => {
    const before = await moto.keys(bucket);
    await expect(store.receive(body(randomBytes(12 * MiB)), 11 * MiB, () => {})).rejects.toMatchObject({
      code: 'payload-too-large',
      status: 413,
    });
    await expect(store.receive(body(randomBytes(12 * MiB), 11 * MiB), 64 * MiB, () => {})).rejects.toMatchObject({
      code: 'invalid-request',
    });
    await expect(store.receive(body(Buffer.from('short'), 3), 64 * MiB, () => {})).rejects.toMatchObject({
      code: 'invalid-request',
    });
    expect(await moto.keys(bucket)).toEqual(before);
    expect(await moto.openUploads(bucket)).toEqual([]);
  });

  it('stores a body (a compacted log) with put and reads it back with open', async () => {
    expect(await store.put(Readable.from([Buffer.from('line one\nline two\n')]))).toEqual({
      sha256: sha256('line one\nline two\n'),
      size: 18,
    });
    expect(await text(await store.open(sha256('line one\nline two\n'), { start: 9, end: 16 }))).toBe('line two');
    await expect(store.open(sha256('never stored'))).rejects.toMatchObject({ code: 'not-found' });
  });

  it('lists what it stores for the collector, and removes', async () => {
    const digest = sha256('to remove');
    await store.commit(await store.receive(body(Buffer.from('to remove')), 100, () => {}));
    const listed = [];
    for await (const stored of store.storedDigests()) listed.push(stored);
    expect(listed.map((s) => s.sha256)).toContain(digest);
    expect(listed.every((s) => Math.abs(s.storedAt - Date.now()) < 60_000)).toBe(true);
    await store.remove(digest);
    expect(await store.size(digest)).toBeNull();
    await store.remove(digest);
  });

  it('at start, clears temporary objects and multipart uploads a crash left a day ago, and only those', async () => {
    // moto reports every multipart upload as initiated in 2010: the key's own time is what counts.
    const left = `crashed/tmp/${Date.now()}-left`;
    const open = `crashed/tmp/${Date.now()}-open`;
    await moto.client.send(new PutObjectCommand({ Bucket: bucket, Key: left, Body: 'half' }));
    await moto.client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: open }));
    const starting = (clock: number) =>
      new S3BlobStore({
        client: moto.client,
        presigner: moto.client,
        location: { bucket, prefix: 'crashed/' },
        layout: new S3KeyLayout('crashed/'),
        redirectDownloads: false,
        clock: () => clock,
      }).init();
    // Just now: perhaps another replica's upload in progress.
    await starting(Date.now());
    expect(await moto.keys(bucket, 'crashed/')).toEqual([left]);
    expect(await moto.openUploads(bucket)).toEqual([open]);
    await starting(Date.now() + 25 * 3600 * 1000);
    expect(await moto.keys(bucket, 'crashed/')).toEqual([]);
    expect(await moto.openUploads(bucket)).toEqual([]);
  });

  it('presigns downloads without the default checksum, and the URL serves a Range', async () => {
    const digest = sha256('line one\nline two\n');
    const url = (await store.downloadUrl(digest, { contentType: 'text/plain' })) as string;
    const query = new URL(url).searchParams;
    expect(query.get('X-Amz-Expires')).toBe('300');
    expect([...query.keys()].filter((key) => /checksum/i.test(key))).toEqual([]);
    expect(query.get('response-content-type')).toBe('text/plain');
    const part = await fetch(url, { headers: { range: 'bytes=0-3' } });
    expect(part.status).toBe(206);
    expect(await part.text()).toBe('line');
  });
});

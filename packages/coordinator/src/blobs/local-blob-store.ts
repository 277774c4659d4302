import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { ApiError } from '@switchyard/protocol';
import { streamToFile } from './file-sink.ts';
import { BodyTally } from './hashing-counter.ts';
import type { BlobStore, ByteSpan, ReceivedBody, StoredDigest } from './port.ts';
import { storeBody } from './store-body.ts';

/**
 * Blobs on local disk, content-addressed: `<dir>/ab/cdef…` holds the bytes whose sha256 is
 * `abcdef…`. Bodies stream into `<dir>/tmp/` while they are hashed and counted, are flushed to
 * disk, and only then renamed into place, so a blob file is always complete and correct; a
 * refused or cut-off upload leaves nothing behind. Downloads are served from the file.
 */
export class LocalBlobStore implements BlobStore {
  private readonly tempDir: string;
  readonly location: string;

  constructor(readonly dir: string) {
    this.tempDir = join(dir, 'tmp');
    this.location = pathToFileURL(dir).href;
  }

  /** Creates the directories and removes temporary files a crash left behind. */
  async init(): Promise<void> {
    await rm(this.tempDir, { recursive: true, force: true });
    await mkdir(this.tempDir, { recursive: true });
  }

  /** The digests of every blob file on disk, found by walking the two-level directory. */
  async *storedDigests(): AsyncGenerator<StoredDigest> {
    for (const prefix of await readdir(this.dir)) {
      if (!/^[0-9a-f]{2}$/.test(prefix)) continue;
      for (const rest of await readdir(join(this.dir, prefix)).catch(() => [] as string[])) {
        if (!/^[0-9a-f]{62}$/.test(rest)) continue;
        const stored = await stat(join(this.dir, prefix, rest)).catch(() => null);
        if (stored) yield { sha256: prefix + rest, storedAt: stored.mtimeMs };
      }
    }
  }

  pathOf(sha256: string): string {
    return join(this.dir, sha256.slice(0, 2), sha256.slice(2));
  }

  /** The blob's size on disk, or null when its file is missing. */
  async size(sha256: string): Promise<number | null> {
    try {
      return (await stat(this.pathOf(sha256))).size;
    } catch {
      return null;
    }
  }

  async receive(
    body: Readable,
    maxBytes: number,
    onBytes: (count: number) => void,
    options: { sha512?: boolean } = {},
  ): Promise<ReceivedBody> {
    const tempName = join(this.tempDir, `${Date.now()}-${randomBytes(8).toString('hex')}`);
    const file = await open(tempName, 'wx');
    const tally = new BodyTally(maxBytes, options.sha512 === true);
    try {
      // Fdatasynced before it resolves, so a committed blob survives a crash.
      await streamToFile(body, file.fd, tally, onBytes);
    } catch (error) {
      await file.close();
      await rm(tempName, { force: true });
      throw error;
    }
    await file.close();
    return { tempName, ...tally.digests() };
  }

  /** Moves a received body into place as its blob; an identical file already there is simply replaced. */
  async commit(received: ReceivedBody): Promise<void> {
    const target = this.pathOf(received.sha256);
    const parent = join(this.dir, received.sha256.slice(0, 2));
    await mkdir(parent, { recursive: true });
    await rename(received.tempName, target);
    // The rename itself must survive a crash too, or the database could name a file that isn't there.
    const directory = await open(parent, 'r');
    try {
      await directory.sync();
    } finally {
      await directory.close();
    }
  }

  async discard(received: ReceivedBody): Promise<void> {
    await rm(received.tempName, { force: true });
  }

  async remove(sha256: string): Promise<void> {
    await rm(this.pathOf(sha256), { force: true });
  }

  put(body: Readable): Promise<{ sha256: string; size: number }> {
    return storeBody(this, body);
  }

  async open(sha256: string, span?: ByteSpan): Promise<Readable> {
    const file = createReadStream(this.pathOf(sha256), span);
    // Opening is asynchronous: wait for it, so a missing file is an error here and not mid-response.
    await new Promise<void>((resolve, reject) => {
      file.once('open', () => resolve());
      file.once('error', (error: NodeJS.ErrnoException) =>
        reject(error.code === 'ENOENT' ? new ApiError('not-found', `no blob with sha256 ${sha256}`) : error),
      );
    });
    return file;
  }

  /** Bytes on disk are served by the coordinator itself. */
  async downloadUrl(): Promise<null> {
    return null;
  }
}

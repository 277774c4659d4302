import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ApiError } from '@switchyard/protocol';

/** A body written to a temporary file, hashed on the way; not yet a blob. */
export interface ReceivedBody {
  tempPath: string;
  sha256: string;
  size: number;
}

/**
 * Blobs on local disk, content-addressed: `<dir>/ab/cdef…` holds the bytes whose sha256 is
 * `abcdef…`. Bodies stream into `<dir>/tmp/` while they are hashed and counted, are flushed to
 * disk, and only then renamed into place, so a blob file is always complete and correct; a
 * refused or cut-off upload leaves nothing behind.
 */
export class BlobStore {
  private readonly tempDir: string;

  constructor(readonly dir: string) {
    this.tempDir = join(dir, 'tmp');
  }

  /** Creates the directories and removes temporary files a crash left behind. */
  async init(): Promise<void> {
    await rm(this.tempDir, { recursive: true, force: true });
    await mkdir(this.tempDir, { recursive: true });
  }

  pathOf(sha256: string): string {
    return join(this.dir, sha256.slice(0, 2), sha256.slice(2));
  }

  /** The blob's size on disk, or null when its file is missing. */
  async sizeOnDisk(sha256: string): Promise<number | null> {
    try {
      return (await stat(this.pathOf(sha256))).size;
    } catch {
      return null;
    }
  }

  /**
   * Streams a body into a temporary file while hashing it, and flushes it to disk. Past
   * `maxBytes` it stops at once with a 413; a body cut off before its end is an error too.
   * Either way the temporary file is gone. The source is never destroyed here, so the caller
   * can still answer on its connection.
   */
  async receive(body: Readable, maxBytes: number, onBytes: (count: number) => void): Promise<ReceivedBody> {
    const tempPath = join(this.tempDir, `${Date.now()}-${randomBytes(8).toString('hex')}`);
    const hash = createHash('sha256');
    let size = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        size += chunk.length;
        if (size > maxBytes) {
          callback(
            new ApiError('payload-too-large', `the artifact is over the limit of ${maxBytes} bytes`, {
              maxBytes,
            }),
          );
          return;
        }
        hash.update(chunk);
        onBytes(chunk.length);
        callback(null, chunk);
      },
    });
    const cutOff = () => {
      if (!(body as Readable & { complete?: boolean }).complete) {
        counter.destroy(new ApiError('invalid-request', `the upload was cut off after ${size} bytes`));
      }
    };
    body.once('close', cutOff);
    body.once('error', cutOff);
    body.pipe(counter);
    try {
      await pipeline(counter, createWriteStream(tempPath, { flags: 'wx' }));
      const file = await open(tempPath, 'r+');
      try {
        await file.sync();
      } finally {
        await file.close();
      }
    } catch (error) {
      body.unpipe(counter);
      await rm(tempPath, { force: true });
      throw error;
    } finally {
      body.off('close', cutOff);
      body.off('error', cutOff);
    }
    return { tempPath, sha256: hash.digest('hex'), size };
  }

  /** Moves a received body into place as its blob; an identical file already there is simply replaced. */
  async commit(received: ReceivedBody): Promise<void> {
    const target = this.pathOf(received.sha256);
    const parent = join(this.dir, received.sha256.slice(0, 2));
    await mkdir(parent, { recursive: true });
    await rename(received.tempPath, target);
    // The rename itself must survive a crash too, or the database could name a file that isn't there.
    const directory = await open(parent, 'r');
    try {
      await directory.sync();
    } finally {
      await directory.close();
    }
  }

  async discard(received: ReceivedBody): Promise<void> {
    await rm(received.tempPath, { force: true });
  }

  async remove(sha256: string): Promise<void> {
    await rm(this.pathOf(sha256), { force: true });
  }
}

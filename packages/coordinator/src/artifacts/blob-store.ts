import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, fdatasync, type WriteStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ApiError } from '@switchyard/protocol';

const STREAM_BUFFER_BYTES = 1024 * 1024;
const FLUSH_EVERY_BYTES = 64 * 1024 * 1024;

/** A body written to a temporary file, hashed on the way; not yet a blob. */
export interface ReceivedBody {
  tempPath: string;
  sha256: string;
  /** Computed in the same pass when asked for: the tool store addresses content by sha512 too. */
  sha512: string | null;
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

  /** The digests of every blob file on disk, found by walking the two-level directory. */
  async *storedDigests(): AsyncGenerator<string> {
    for (const prefix of await readdir(this.dir)) {
      if (!/^[0-9a-f]{2}$/.test(prefix)) continue;
      for (const rest of await readdir(join(this.dir, prefix)).catch(() => [] as string[])) {
        if (/^[0-9a-f]{62}$/.test(rest)) yield prefix + rest;
      }
    }
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
   * Streams a body into a temporary file while hashing it (sha256, and sha512 too when asked),
   * and flushes it to disk. Past `maxBytes` it stops at once with a 413; a body cut off before
   * its end is an error too. Either way the temporary file is gone. The source is never
   * destroyed here, so the caller can still answer on its connection.
   */
  async receive(
    body: Readable,
    maxBytes: number,
    onBytes: (count: number) => void,
    options: { sha512?: boolean } = {},
  ): Promise<ReceivedBody> {
    const tempPath = join(this.tempDir, `${Date.now()}-${randomBytes(8).toString('hex')}`);
    const hash = createHash('sha256');
    const hash512 = options.sha512 ? createHash('sha512') : null;
    // `flush`: the file is fsynced before it is closed, so a committed blob survives a crash.
    const out = createWriteStream(tempPath, { flags: 'wx', flush: true, highWaterMark: STREAM_BUFFER_BYTES });
    const flush = new IncrementalFlush(out);
    let size = 0;
    const counter = new Transform({
      highWaterMark: STREAM_BUFFER_BYTES,
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
        hash512?.update(chunk);
        onBytes(chunk.length);
        flush.progress(size);
        callback(null, chunk);
      },
      // The file is closed only once no flush is using its descriptor any more.
      flush(callback) {
        void flush.settled().then(() => callback());
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
      await pipeline(counter, out);
    } catch (error) {
      body.unpipe(counter);
      await flush.settled();
      await rm(tempPath, { force: true });
      throw error;
    } finally {
      body.off('close', cutOff);
      body.off('error', cutOff);
    }
    return { tempPath, sha256: hash.digest('hex'), sha512: hash512?.digest('hex') ?? null, size };
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

/**
 * Flushes a file being written, every so often, in the background: rather than all of it at
 * the end, which overlaps the disk's work with the network's, so the final fsync has little
 * left to write.
 */
class IncrementalFlush {
  private fd: number | null = null;
  private flushedAt = 0;
  private inFlight = false;
  private pending = Promise.resolve();

  constructor(stream: WriteStream) {
    stream.once('open', (fd: number) => {
      this.fd = fd;
    });
  }

  /** `written` bytes have gone into the stream. */
  progress(written: number): void {
    const fd = this.fd;
    if (this.inFlight || fd === null || written - this.flushedAt < FLUSH_EVERY_BYTES) return;
    this.flushedAt = written;
    this.inFlight = true;
    this.pending = new Promise((resolve) =>
      fdatasync(fd, () => {
        this.inFlight = false;
        resolve();
      }),
    );
  }

  /** Resolves once no flush is running. */
  settled(): Promise<void> {
    return this.pending;
  }
}

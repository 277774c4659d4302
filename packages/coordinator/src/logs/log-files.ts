import { constants, createReadStream, createWriteStream } from 'node:fs';
import { type FileHandle, mkdir, open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';

/**
 * Where step logs live on disk: one file of log frames per attempt and step, gzipped once the
 * step is over. Writes go to an explicit offset (the byte count the database has committed),
 * so a batch retried after a crash overwrites its own half-written bytes instead of doubling
 * them.
 */
export class LogFiles {
  private readonly handles = new Map<string, Promise<FileHandle>>();

  constructor(private readonly root: string) {}

  private dir(attemptId: number): string {
    return join(this.root, String(Math.floor(attemptId / 1000)), String(attemptId));
  }

  rawPath(attemptId: number, step: number): string {
    return join(this.dir(attemptId), `${step}.log`);
  }

  gzipPath(attemptId: number, step: number): string {
    return join(this.dir(attemptId), `${step}.log.gz`);
  }

  /**
   * Opened for positioned writes (not O_APPEND, which would ignore the offset) and, on first
   * use, cut to the committed length: bytes past it were written by a batch whose commit a
   * crash prevented, and that batch is about to be written again.
   */
  private handle(attemptId: number, step: number, committedBytes: number): Promise<FileHandle> {
    const key = `${attemptId}/${step}`;
    let handle = this.handles.get(key);
    if (!handle) {
      handle = (async () => {
        await mkdir(this.dir(attemptId), { recursive: true });
        const file = await open(this.rawPath(attemptId, step), constants.O_RDWR | constants.O_CREAT, 0o644);
        await file.truncate(committedBytes);
        return file;
      })();
      this.handles.set(key, handle);
      handle.catch(() => this.handles.delete(key));
    }
    return handle;
  }

  async writeAt(attemptId: number, step: number, offset: number, data: Buffer): Promise<void> {
    const file = await this.handle(attemptId, step, offset);
    let written = 0;
    while (written < data.length) {
      const { bytesWritten } = await file.write(data, written, data.length - written, offset + written);
      written += bytesWritten;
    }
  }

  async close(attemptId: number, step: number): Promise<void> {
    const key = `${attemptId}/${step}`;
    const handle = this.handles.get(key);
    if (!handle) return;
    this.handles.delete(key);
    await (await handle).close();
  }

  /** Gzips the first `bytes` bytes of a finished step's log, then removes the raw file. */
  async compress(attemptId: number, step: number, bytes: number): Promise<void> {
    await this.close(attemptId, step);
    const target = this.gzipPath(attemptId, step);
    const temporary = `${target}.tmp`;
    await mkdir(this.dir(attemptId), { recursive: true });
    const source = bytes === 0 ? [] : createReadStream(this.rawPath(attemptId, step), { start: 0, end: bytes - 1 });
    await pipeline(source, createGzip({ level: 6 }), createWriteStream(temporary));
    await rename(temporary, target);
  }

  async removeRaw(attemptId: number, step: number): Promise<void> {
    await rm(this.rawPath(attemptId, step), { force: true });
  }

  /** The frames of a step's log from `start` to `end` (exclusive) of the uncompressed bytes. */
  read(attemptId: number, step: number, compressed: boolean, start: number, end: number): Readable | null {
    if (end <= start) return null;
    if (!compressed) return createReadStream(this.rawPath(attemptId, step), { start, end: end - 1 });
    // Large output chunks: a reader of a 100 MB log takes a few hundred slices, not thousands.
    const gunzip = createGunzip({ chunkSize: 256 * 1024 });
    const source = createReadStream(this.gzipPath(attemptId, step));
    source.on('error', (error) => gunzip.destroy(error));
    source.pipe(gunzip);
    return start === 0 ? gunzip : Readable.from(skipBytes(gunzip, start));
  }

  async closeAll(): Promise<void> {
    const all = [...this.handles.values()];
    this.handles.clear();
    await Promise.allSettled(all.map(async (h) => (await h).close()));
  }
}

async function* skipBytes(source: Readable, skip: number): AsyncGenerator<Buffer> {
  let remaining = skip;
  for await (const chunk of source as AsyncIterable<Buffer>) {
    if (remaining >= chunk.length) {
      remaining -= chunk.length;
      continue;
    }
    yield remaining > 0 ? chunk.subarray(remaining) : chunk;
    remaining = 0;
  }
}

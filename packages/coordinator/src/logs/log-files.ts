import { createReadStream } from 'node:fs';
import { access, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createGunzip } from 'node:zlib';

/**
 * Step logs as coordinators before the log chunks kept them, under `<data>/logs`: one file of
 * log frames per attempt and step, gzipped once the step was over. Nothing writes them any more.
 * Their steps' rows still say where they stand: a gzip file (`log_compressed` without an
 * archive) is imported into the archive by the coordinator that finds it at start, and read
 * from here until then; a raw file, from a step a coordinator of the old layout left running or
 * uncompressed, is read here and compacted into the archive like any log. Either is deleted once
 * the archive has it.
 */
export class LegacyLogFiles {
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

  hasRaw(attemptId: number, step: number): Promise<boolean> {
    return exists(this.rawPath(attemptId, step));
  }

  hasGzip(attemptId: number, step: number): Promise<boolean> {
    return exists(this.gzipPath(attemptId, step));
  }

  async removeRaw(attemptId: number, step: number): Promise<void> {
    await rm(this.rawPath(attemptId, step), { force: true });
  }

  async removeGzip(attemptId: number, step: number): Promise<void> {
    await rm(this.gzipPath(attemptId, step), { force: true });
  }

  /** The frames of a step's log from `start` to `end` (exclusive) of the uncompressed bytes. */
  async *read(
    attemptId: number,
    step: number,
    compressed: boolean,
    start: number,
    end: number,
  ): AsyncGenerator<Buffer> {
    if (end <= start) return;
    if (!compressed) {
      const source = createReadStream(this.rawPath(attemptId, step), { start, end: end - 1 });
      try {
        yield* source as AsyncIterable<Buffer>;
      } finally {
        source.destroy();
      }
      return;
    }
    const gunzip = createGunzip({ chunkSize: 256 * 1024 });
    const source = createReadStream(this.gzipPath(attemptId, step));
    source.on('error', (error) => gunzip.destroy(error));
    source.pipe(gunzip);
    let position = 0;
    try {
      for await (const chunk of gunzip as AsyncIterable<Buffer>) {
        const from = Math.max(0, start - position);
        const to = Math.min(chunk.length, end - position);
        position += chunk.length;
        if (to > from) yield chunk.subarray(from, to);
        if (position >= end) return;
      }
    } finally {
      source.destroy();
      gunzip.destroy();
    }
  }
}

function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { createGunzip, gzip } from 'node:zlib';
import type { BlobsTarget } from '../config/blobs-config.ts';
import type { ArchivedLog } from '../store/port.ts';

const gzipAsync = promisify(gzip);

/**
 * Where compacted logs go: the blob store's narrow side that logs need (a local directory, or
 * S3 shared by every replica). Its blobs are named by the steps that point to them and by
 * nothing else, so it must be a store of its own, not the artifacts' one, whose collector
 * deletes every blob no artifact or tool names.
 */
export interface LogArchive {
  /** Stores a body as a blob; resolves once it is visible to every coordinator. */
  put(body: Readable): Promise<{ sha256: string; size: number }>;
  /** Reads a blob, or the inclusive byte span of it. */
  open(sha256: string, range?: { start: number; end: number }): Promise<Readable>;
}

/**
 * Where the log archive of a farm whose blobs go to `blobs` is: the directory `log-archive`
 * beside the blob directory, or the key prefix `logs/` under the bucket's prefix (apart from
 * `sha256/`, which the artifacts' collector lists).
 */
export function logArchiveTarget(blobs: BlobsTarget): BlobsTarget {
  if (blobs.kind === 'local') return { kind: 'local', dir: join(dirname(blobs.dir), 'log-archive') };
  return { ...blobs, location: { ...blobs.location, prefix: `${blobs.location.prefix}logs/` } };
}

/** Log bytes per gzip member: a reader starting mid-log inflates at most this much it then skips. */
export const MEMBER_BYTES = 1024 * 1024;

/**
 * A log as gzip members of `memberBytes` each (the last one the rest), compressed as they are
 * read: a blob store takes them as a body with bounded memory, whatever the log's size. The
 * whole is one valid gzip stream (`gunzip` reads it whole), and any member can be read on its
 * own. Once iterated, `members` says where each starts and `size` how long the whole is.
 */
export class GzipMembers implements AsyncIterable<Buffer> {
  readonly members: number[] = [];
  size = 0;

  constructor(
    private readonly source: AsyncIterable<Buffer>,
    private readonly memberBytes = MEMBER_BYTES,
  ) {}

  async *[Symbol.asyncIterator](): AsyncGenerator<Buffer> {
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    for await (const slice of this.source) {
      let rest = slice;
      while (pendingBytes + rest.length >= this.memberBytes) {
        const take = this.memberBytes - pendingBytes;
        yield await this.member(Buffer.concat([...pending, rest.subarray(0, take)]));
        pending = [];
        pendingBytes = 0;
        rest = rest.subarray(take);
      }
      if (rest.length > 0) {
        pending.push(rest);
        pendingBytes += rest.length;
      }
    }
    if (pendingBytes > 0) yield await this.member(Buffer.concat(pending));
  }

  private async member(data: Buffer): Promise<Buffer> {
    const compressed = await gzipAsync(data, { level: 6 });
    this.members.push(this.size);
    this.size += compressed.length;
    return compressed;
  }
}

/** The bytes `start` to `end` (exclusive) of an archived log, inflating from the member that holds `start`. */
export async function* readArchived(
  archive: LogArchive,
  log: ArchivedLog,
  start: number,
  end: number,
): AsyncGenerator<Buffer> {
  if (end <= start || log.members.length === 0) return;
  const member = Math.min(Math.floor(start / log.memberBytes), log.members.length - 1);
  const source = await archive.open(log.sha256, { start: log.members[member] as number, end: log.size - 1 });
  // Large output chunks: a reader of a 100 MB log takes a few hundred slices, not thousands.
  const gunzip = createGunzip({ chunkSize: 256 * 1024 });
  source.on('error', (error) => gunzip.destroy(error));
  source.pipe(gunzip);
  let position = member * log.memberBytes;
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

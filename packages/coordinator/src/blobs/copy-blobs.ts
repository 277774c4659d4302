import { stat } from 'node:fs/promises';
import { LocalBlobStore } from './local-blob-store.ts';
import type { BlobStore } from './port.ts';

export interface CopiedBlobs {
  copied: number;
  /** Already in the target with the same size: a copy run again picks up where it stopped. */
  skipped: number;
  bytes: number;
  /** Files whose bytes are not what their name says; not copied under that name. */
  damaged: string[];
}

/**
 * Copies every blob of a blob directory (`server.blob_dir`, `<data>/blobs` by default) into
 * another store, S3 usually, under the same digests; each is hashed again on the way, so a
 * damaged file is reported rather than copied under a name that lies. The directory is only
 * read: its coordinator may keep running, and what it stores meanwhile is caught by running
 * the copy again.
 */
export async function copyBlobs(
  fromDir: string,
  to: BlobStore,
  onProgress?: (done: number, sha256: string) => void,
): Promise<CopiedBlobs> {
  const from = new LocalBlobStore(fromDir);
  await stat(fromDir);
  const result: CopiedBlobs = { copied: 0, skipped: 0, bytes: 0, damaged: [] };
  for await (const { sha256 } of from.storedDigests()) {
    const size = await from.size(sha256);
    if (size === null) continue;
    if ((await to.size(sha256)) === size) {
      result.skipped += 1;
    } else {
      const received = await to.receive(await from.open(sha256), Number.POSITIVE_INFINITY, () => {});
      if (received.sha256 === sha256) {
        await to.commit(received);
        result.copied += 1;
        result.bytes += received.size;
      } else {
        await to.discard(received);
        result.damaged.push(from.pathOf(sha256));
      }
    }
    onProgress?.(result.copied + result.skipped + result.damaged.length, sha256);
  }
  return result;
}

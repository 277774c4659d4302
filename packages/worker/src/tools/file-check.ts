import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';

/** How a file on disk compares with its manifest record. */
export type FileCheck = 'ok' | 'missing' | 'wrong-size' | 'wrong-digest';

export async function fileSha512(path: string, signal?: AbortSignal): Promise<string> {
  const hash = createHash('sha512');
  await pipeline(createReadStream(path), hash, signal ? { signal } : {});
  return hash.digest('hex');
}

/** Compares a file with its record: the size first, which is cheap, then the sha512. */
export async function checkFile(
  path: string,
  expected: { size: number; digest: string },
  signal?: AbortSignal,
): Promise<FileCheck> {
  const info = await stat(path).catch(() => null);
  if (!info?.isFile()) return 'missing';
  if (info.size !== expected.size) return 'wrong-size';
  return (await fileSha512(path, signal)) === expected.digest ? 'ok' : 'wrong-digest';
}

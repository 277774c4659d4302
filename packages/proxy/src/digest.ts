import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { DigestAlgorithm } from './content-address.ts';

export interface Digest {
  algorithm: DigestAlgorithm;
  /** Lower-case hex. */
  hex: string;
}

/** The digest of a whole file, read as a stream (entries may be many GB). */
export async function digestFile(path: string, algorithm: DigestAlgorithm): Promise<Digest> {
  const hash = createHash(algorithm);
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return { algorithm, hex: hash.digest('hex') };
}

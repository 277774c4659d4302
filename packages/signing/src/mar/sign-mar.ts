import { createSign, type KeyObject } from 'node:crypto';
import type { MarAlgorithm } from './mar-algorithms.ts';
import { signatureLength } from './mar-algorithms.ts';
import type { MarEntry, MarSection } from './mar-file.ts';
import { signedParts, writeMar } from './write-mar.ts';

/**
 * A new-format MAR of `entries` and `sections` carrying one signature by `key`. Signatures the
 * input had are replaced, not kept: they covered a signature block that no longer exists
 * (build-mar's `add_signature_block` does the same).
 */
export function signMar(entries: MarEntry[], sections: MarSection[], algorithm: MarAlgorithm, key: KeyObject): Buffer {
  const length = signatureLength(algorithm, key);
  const { bytes, signatureOffsets } = writeMar(entries, sections, [{ algorithm: algorithm.id, length }]);
  const signer = createSign(algorithm.hash);
  for (const part of signedParts(bytes)) signer.update(part);
  const signature = signer.sign({ key, dsaEncoding: 'ieee-p1363' });
  if (signature.length !== length) throw new Error(`the key made a ${signature.length}-byte signature, not ${length}`);
  signature.copy(bytes, signatureOffsets[0] as number);
  return bytes;
}

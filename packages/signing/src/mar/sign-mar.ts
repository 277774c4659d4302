import { createHash, createSign, type KeyObject } from 'node:crypto';
import { digestInfo } from '../keys/digest-info.ts';
import { type MarAlgorithm, signatureLength } from './mar-algorithms.ts';
import type { MarEntry, MarSection } from './mar-file.ts';
import { signedParts, writeMar } from './write-mar.ts';

/** Makes a MAR signature of a length known in advance over the parts a signature covers. */
export interface MarSigner {
  algorithm: MarAlgorithm;
  length: number;
  sign(parts: Buffer[]): Buffer;
}

/** A signer over a key this process holds (PEM): RSA PKCS#1 v1.5, or ECDSA as r‖s. */
export function keyObjectMarSigner(algorithm: MarAlgorithm, key: KeyObject): MarSigner {
  return {
    algorithm,
    length: signatureLength(algorithm, key),
    sign(parts) {
      const signer = createSign(algorithm.hash);
      for (const part of parts) signer.update(part);
      return signer.sign({ key, dsaEncoding: 'ieee-p1363' });
    },
  };
}

/**
 * A signer that sees only the digest: the parts are hashed here and `signDigestInfo` signs
 * the PKCS#1 DigestInfo (an HSM, or autograph's /sign/hash). RSA algorithms only.
 */
export function digestMarSigner(
  algorithm: MarAlgorithm,
  publicKey: KeyObject,
  signDigestInfo: (info: Buffer) => Buffer,
): MarSigner {
  return {
    algorithm,
    length: signatureLength(algorithm, publicKey),
    sign(parts) {
      const hash = createHash(algorithm.hash);
      for (const part of parts) hash.update(part);
      return signDigestInfo(digestInfo(algorithm.hash, hash.digest()));
    },
  };
}

/**
 * A new-format MAR of `entries` and `sections` carrying one signature. Signatures the input had
 * are replaced, not kept: they covered a signature block that no longer exists (build-mar's
 * `add_signature_block` does the same).
 */
export function signMar(entries: MarEntry[], sections: MarSection[], signer: MarSigner): Buffer {
  const { bytes, signatureOffsets } = writeMar(entries, sections, [
    { algorithm: signer.algorithm.id, length: signer.length },
  ]);
  const signature = signer.sign(signedParts(bytes));
  if (signature.length !== signer.length) {
    throw new Error(`the key made a ${signature.length}-byte signature, not ${signer.length}`);
  }
  signature.copy(bytes, signatureOffsets[0] as number);
  return bytes;
}

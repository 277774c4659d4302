import type { KeyObject } from 'node:crypto';

/**
 * The MAR signature algorithms Firefox's updater and margo know. The id is what the MAR
 * records; RSA signatures are PKCS#1 v1.5, ECDSA ones are r‖s (margo reads fixed halves).
 */
export interface MarAlgorithm {
  id: number;
  hash: 'sha1' | 'sha256' | 'sha384';
  keyType: 'rsa' | 'ec';
  /** For ECDSA: the curve the key must be on. */
  curve?: 'prime256v1' | 'secp384r1';
}

export const MAR_ALGORITHMS: Record<number, MarAlgorithm> = {
  1: { id: 1, hash: 'sha1', keyType: 'rsa' },
  2: { id: 2, hash: 'sha384', keyType: 'rsa' },
  3: { id: 3, hash: 'sha256', keyType: 'ec', curve: 'prime256v1' },
  4: { id: 4, hash: 'sha384', keyType: 'ec', curve: 'secp384r1' },
};

/**
 * The algorithm a key signs MARs with: a 4096-bit (or larger) RSA key uses 2 (SHA-384), an older,
 * smaller RSA key 1 (SHA-1), a P-256 key 3 and a P-384 key 4 (autograph's defaults).
 */
export function defaultMarAlgorithm(key: KeyObject): MarAlgorithm | null {
  const details = key.asymmetricKeyDetails;
  if (key.asymmetricKeyType === 'rsa')
    return (details?.modulusLength ?? 0) >= 4096 ? MAR_ALGORITHMS[2]! : MAR_ALGORITHMS[1]!;
  if (key.asymmetricKeyType === 'ec') {
    if (details?.namedCurve === 'prime256v1') return MAR_ALGORITHMS[3]!;
    if (details?.namedCurve === 'secp384r1') return MAR_ALGORITHMS[4]!;
  }
  return null;
}

/** Whether `key` can make signatures of `algorithm`; null if it can, or why not. */
export function algorithmMismatch(algorithm: MarAlgorithm, key: KeyObject): string | null {
  if (key.asymmetricKeyType !== algorithm.keyType) {
    return `MAR algorithm ${algorithm.id} needs an ${algorithm.keyType.toUpperCase()} key, not ${key.asymmetricKeyType}`;
  }
  const details = key.asymmetricKeyDetails;
  if (algorithm.curve && details?.namedCurve !== algorithm.curve) {
    return `MAR algorithm ${algorithm.id} needs a ${algorithm.curve} key, not ${details?.namedCurve}`;
  }
  if (algorithm.id === 2 && (details?.modulusLength ?? 0) < 4096) {
    return 'MAR algorithm 2 needs an RSA key of at least 4096 bits (Firefox expects 512-byte signatures)';
  }
  return null;
}

/** The length of a signature `key` makes with `algorithm`, known before signing. */
export function signatureLength(algorithm: MarAlgorithm, key: KeyObject): number {
  if (algorithm.keyType === 'rsa') return (key.asymmetricKeyDetails?.modulusLength ?? 0) / 8;
  return algorithm.curve === 'prime256v1' ? 64 : 96;
}

import type { DigestAlgorithm } from '../pool/pool-tasks.ts';

/** DER DigestInfo prefixes (RFC 8017 §9.2, note 1): RSA PKCS#1 v1.5 signs prefix ‖ digest. */
const PREFIXES: Record<DigestAlgorithm, Buffer> = {
  sha1: Buffer.from('3021300906052b0e03021a05000414', 'hex'),
  sha256: Buffer.from('3031300d060960864801650304020105000420', 'hex'),
  sha384: Buffer.from('3041300d060960864801650304020205000430', 'hex'),
  sha512: Buffer.from('3051300d060960864801650304020305000440', 'hex'),
};

export function digestInfo(hash: DigestAlgorithm, digest: Uint8Array): Buffer {
  return Buffer.concat([PREFIXES[hash], digest]);
}

import Type, { type Static } from 'typebox';
import { FILE_FORMATS } from '../formats/format-names.ts';

export const Sha256Hex = Type.String({ pattern: '^[0-9a-f]{64}$', description: 'lowercase hex sha256' });
const KeyId = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$' });

export const SignParams = Type.Object({
  format: Type.Enum([...FILE_FORMATS]),
  keyId: KeyId,
  sha256: Sha256Hex,
});
export type SignParams = Static<typeof SignParams>;

export const EntryCounts = Type.Object(
  {
    signed: Type.Integer({ description: 'decompressed, signed and recompressed now' }),
    compressedHits: Type.Integer({ description: 'found in the cache by their compressed bytes' }),
    decompressedHits: Type.Integer({
      description: 'found by their decompressed bytes (signed before as authenticode)',
    }),
    copied: Type.Integer({ description: 'need no signing: copied, never decompressed' }),
  },
  { description: 'mar-contents only: what happened to the entries' },
);

export const SignedOutput = Type.Object({
  format: Type.String(),
  key: Type.String(),
  input: Sha256Hex,
  output: Type.Object({
    sha256: Sha256Hex,
    size: Type.Integer({ description: 'bytes' }),
    url: Type.String({ description: 'GET it for the signed bytes (the detached signature for gpg)' }),
  }),
  cache: Type.Enum(['hit', 'miss', 'joined'], {
    description: 'hit: signed before; joined: the same input was being signed for another request',
  }),
  entries: Type.Optional(EntryCounts),
});
export type SignedOutput = Static<typeof SignedOutput>;

export const HashRequest = Type.Object(
  {
    algorithm: Type.Enum(['sha1', 'sha256', 'sha384', 'sha512']),
    digest: Type.String({ pattern: '^[0-9a-fA-F]+$', description: 'hex' }),
  },
  { additionalProperties: false },
);

export const HashSignature = Type.Object({
  key: Type.String(),
  algorithm: Type.String(),
  signature: Type.String({ description: 'base64 RSA PKCS#1 v1.5 signature over the DigestInfo of the digest' }),
});

export const PublicKey = Type.Object({
  id: Type.String(),
  formats: Type.Array(Type.String()),
  fingerprint: Type.String({ description: 'sha256 of the SPKI DER, or the OpenPGP fingerprint' }),
  publicKey: Type.String({ description: 'PEM, or an armored OpenPGP public key' }),
  marAlgorithm: Type.Optional(Type.Integer()),
});

import type { FormatName } from '../formats/format-names.ts';

/** Where a private key is and how to open it. Only the signer's own threads ever read it. */
export interface KeyMaterial {
  kind: 'pem' | 'openpgp' | 'pkcs11';
  /** The key file, or for PKCS#11 the module (a shared library). */
  path: string;
  /** The key file's passphrase, or the token's PIN. */
  passphrase?: string;
  pkcs11?: { module: string; token: string; label: string };
}

/** A key as the signer uses it, after its config was checked and its file opened once. */
export interface SigningKey {
  id: string;
  formats: ReadonlySet<FormatName>;
  material: KeyMaterial;
  /** The public half: PEM (SPKI) or an armored OpenPGP public key, served by GET /api/v1/keys. */
  publicKey: string;
  /** sha256 of the public key (or the OpenPGP fingerprint): a key replaced under the same id gets new cache entries. */
  fingerprint: string;
  /** `mar`: the MAR signature algorithm id. */
  marAlgorithm?: number;
  /** `mar-contents`: the id of the Authenticode key for the entries. */
  contentsKey?: string;
  /** `authenticode`: the PEM certificate chain file. */
  certificates?: string;
  /** `authenticode`: an RFC 3161 timestamp authority. */
  timestampUrl?: string;
}

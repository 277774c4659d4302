import type { Compression } from '../compression/compression.ts';
import type { KeyMaterial } from '../keys/signing-key.ts';

/** The CPU-bound pieces of signing, each run whole on one worker thread. */
export type PoolTask =
  | { kind: 'decompress'; compression: Compression; data: Uint8Array }
  | { kind: 'compress'; compression: Compression; data: Uint8Array }
  /** Re-lays a MAR (old or new format) with one signature slot and signs it. */
  | { kind: 'sign-mar'; keyId: string; mar: Uint8Array }
  /** Authenticode through osslsigncode (a process of its own, spawned from the thread so the server's loop never forks). */
  | { kind: 'authenticode'; keyId: string; data: Uint8Array }
  /** An armored detached OpenPGP signature. */
  | { kind: 'gpg'; keyId: string; data: Uint8Array }
  /** RSA PKCS#1 v1.5 over a digest computed elsewhere. */
  | { kind: 'sign-digest'; keyId: string; hash: DigestAlgorithm; digest: Uint8Array };

export type DigestAlgorithm = 'sha1' | 'sha256' | 'sha384' | 'sha512';

/** How a worker thread opens and uses one key. */
export interface PoolKey {
  material: KeyMaterial;
  marAlgorithm?: number;
  /** Authenticode: the certificate chain file and the timestamp authority. */
  certificates?: string;
  timestampUrl?: string;
}

/** What every worker thread is started with. */
export interface PoolSetup {
  keys: Record<string, PoolKey>;
  /** Where osslsigncode's input, output and key files live while it runs. */
  scratchDir: string;
}

export type PoolRequest = { id: number; task: PoolTask };
export type PoolReply =
  /** Sent once, when the thread has loaded its modules and can take tasks. */
  | { ready: true }
  | { id: number; ok: true; result: Uint8Array | string }
  | { id: number; ok: false; name: string; message: string };

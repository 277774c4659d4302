/**
 * @module
 * RSA keys held by a PKCS#11 module (an HSM, a smartcard, SoftHSM), used through OpenSC's
 * `pkcs11-tool`: the private key never leaves the module. The signer hashes and builds the
 * DigestInfo itself and asks the module for a raw RSA-PKCS signature over it, the same
 * "sign a hash" path autograph uses for MARs. The PIN reaches pkcs11-tool through its
 * environment (`--pin env:…`), never its command line.
 */
import { execFileSync } from 'node:child_process';
import { createPublicKey, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KeyMaterial } from './signing-key.ts';

const PIN_VARIABLE = 'SWITCHYARD_PKCS11_PIN';

function run(material: KeyMaterial, args: string[], scratch: string): void {
  const { module, token, label } = material.pkcs11 ?? { module: '', token: '', label: '' };
  const login = material.passphrase === undefined ? [] : ['--login', '--pin', `env:${PIN_VARIABLE}`];
  try {
    execFileSync('pkcs11-tool', ['--module', module, '--token-label', token, ...login, '--label', label, ...args], {
      cwd: scratch,
      env: { ...process.env, [PIN_VARIABLE]: material.passphrase ?? '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (error) {
    const output = `${(error as { stderr?: Buffer }).stderr ?? ''}`.trim().split('\n').at(-1);
    throw new Error(`pkcs11-tool failed for token "${token}", key "${label}": ${output || (error as Error).message}`);
  }
}

function withScratch<T>(work: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-pkcs11-'));
  try {
    return work(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The public half of the module's key, read from the token (no PIN needed for public objects). */
export function readPkcs11PublicKey(material: KeyMaterial): KeyObject {
  return withScratch((dir) => {
    run({ ...material, passphrase: undefined }, ['--read-object', '--type', 'pubkey', '-o', 'public.der'], dir);
    return createPublicKey({ key: readFileSync(join(dir, 'public.der')), format: 'der', type: 'spki' });
  });
}

/** A raw RSA-PKCS (PKCS#1 v1.5 padding) signature over a DigestInfo, made inside the module. */
export function pkcs11SignDigestInfo(material: KeyMaterial, info: Buffer): Buffer {
  return withScratch((dir) => {
    writeFileSync(join(dir, 'digest-info'), info);
    run(material, ['--sign', '--mechanism', 'RSA-PKCS', '-i', 'digest-info', '-o', 'signature'], dir);
    return readFileSync(join(dir, 'signature'));
  });
}

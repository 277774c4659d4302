import { createHash, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { KeyMaterial } from './signing-key.ts';

/** A PEM private key (PKCS#8, PKCS#1 or SEC1), decrypted with its passphrase when it has one. */
export function openPemKey(material: KeyMaterial): KeyObject {
  return createPrivateKey({ key: readFileSync(material.path), format: 'pem', passphrase: material.passphrase });
}

/** The public half of a key (private or public) as PEM, and the sha256 of its SPKI DER. */
export function pemPublicKey(key: KeyObject): { pem: string; fingerprint: string } {
  const publicKey = key.type === 'public' ? key : createPublicKey(key);
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return {
    pem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    fingerprint: createHash('sha256').update(der).digest('hex'),
  };
}

/** An armored OpenPGP secret key, decrypted; openpgp.js is loaded only by whoever needs it. */
export async function openOpenPgpKey(material: KeyMaterial) {
  const openpgp = await import('openpgp');
  const key = await openpgp.readPrivateKey({ armoredKey: readFileSync(material.path, 'utf8') });
  if (key.isDecrypted()) return key;
  if (material.passphrase === undefined) throw new Error('the OpenPGP key is encrypted; set passphrase_env');
  return openpgp.decryptKey({ privateKey: key, passphrase: material.passphrase });
}

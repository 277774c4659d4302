import { constants, type KeyObject, privateEncrypt } from 'node:crypto';
import { compress, decompress } from '../compression/codecs.ts';
import { signAuthenticode } from '../formats/osslsigncode.ts';
import { digestInfo } from '../keys/digest-info.ts';
import { openOpenPgpKey, openPemKey } from '../keys/open-key.ts';
import { pkcs11SignDigestInfo, readPkcs11PublicKey } from '../keys/pkcs11-key.ts';
import { MAR_ALGORITHMS } from '../mar/mar-algorithms.ts';
import { readMar } from '../mar/mar-file.ts';
import { digestMarSigner, keyObjectMarSigner, signMar } from '../mar/sign-mar.ts';
import type { PoolSetup, PoolTask } from './pool-tasks.ts';

/** Runs one task with the keys a worker thread holds; keys are opened once per thread and kept. */
export function createTaskRunner({ keys, scratchDir }: PoolSetup) {
  const pemKeys = new Map<string, KeyObject>();
  const pgpKeys = new Map<string, ReturnType<typeof openOpenPgpKey>>();
  const keyConfig = (keyId: string) => {
    const key = keys[keyId];
    if (!key) throw new Error(`no key "${keyId}" in this worker`);
    return key;
  };
  const pkcs11PublicKeys = new Map<string, KeyObject>();
  const pkcs11PublicKey = (keyId: string) => {
    let key = pkcs11PublicKeys.get(keyId);
    if (!key) {
      key = readPkcs11PublicKey(keyConfig(keyId).material);
      pkcs11PublicKeys.set(keyId, key);
    }
    return key;
  };
  const pemKey = (keyId: string) => {
    let key = pemKeys.get(keyId);
    if (!key) {
      key = openPemKey(keyConfig(keyId).material);
      pemKeys.set(keyId, key);
    }
    return key;
  };

  return async function runTask(task: PoolTask): Promise<Uint8Array | string> {
    switch (task.kind) {
      case 'decompress':
        return decompress(task.compression, Buffer.from(task.data.buffer, task.data.byteOffset, task.data.byteLength));
      case 'compress':
        return compress(task.compression, Buffer.from(task.data.buffer, task.data.byteOffset, task.data.byteLength));
      case 'sign-mar': {
        const mar = readMar(Buffer.from(task.mar.buffer, task.mar.byteOffset, task.mar.byteLength));
        const { material, marAlgorithm } = keyConfig(task.keyId);
        const algorithm = MAR_ALGORITHMS[marAlgorithm ?? 0];
        if (!algorithm) throw new Error(`key "${task.keyId}" has no MAR algorithm`);
        const signer =
          material.kind === 'pkcs11'
            ? digestMarSigner(algorithm, pkcs11PublicKey(task.keyId), (info) => pkcs11SignDigestInfo(material, info))
            : keyObjectMarSigner(algorithm, pemKey(task.keyId));
        return signMar(mar.entries, mar.sections, signer);
      }
      case 'authenticode': {
        const { certificates, timestampUrl } = keyConfig(task.keyId);
        if (!certificates) throw new Error(`key "${task.keyId}" has no certificates`);
        const data = Buffer.from(task.data.buffer, task.data.byteOffset, task.data.byteLength);
        return signAuthenticode({ privateKey: pemKey(task.keyId), certificates, timestampUrl }, data, scratchDir);
      }
      case 'gpg': {
        const openpgp = await import('openpgp');
        let key = pgpKeys.get(task.keyId);
        if (!key) {
          key = openOpenPgpKey(keyConfig(task.keyId).material);
          pgpKeys.set(task.keyId, key);
        }
        const message = await openpgp.createMessage({ binary: task.data });
        return openpgp.sign({ message, signingKeys: await key, detached: true, format: 'armored' });
      }
      case 'sign-digest': {
        const info = digestInfo(task.hash, task.digest);
        const { material } = keyConfig(task.keyId);
        if (material.kind === 'pkcs11') return pkcs11SignDigestInfo(material, info);
        return privateEncrypt({ key: pemKey(task.keyId), padding: constants.RSA_PKCS1_PADDING }, info);
      }
    }
  };
}

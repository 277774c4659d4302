import { constants, type KeyObject, privateEncrypt } from 'node:crypto';
import { compress, decompress } from '../compression/codecs.ts';
import { openOpenPgpKey, openPemKey } from '../keys/open-key.ts';
import { MAR_ALGORITHMS } from '../mar/mar-algorithms.ts';
import { readMar } from '../mar/mar-file.ts';
import { signMar } from '../mar/sign-mar.ts';
import type { DigestAlgorithm, PoolKeys, PoolTask } from './pool-tasks.ts';

/** DER DigestInfo prefixes (RFC 8017 §9.2 note 1): PKCS#1 v1.5 signs prefix ‖ digest. */
const DIGEST_INFO: Record<DigestAlgorithm, Buffer> = {
  sha1: Buffer.from('3021300906052b0e03021a05000414', 'hex'),
  sha256: Buffer.from('3031300d060960864801650304020105000420', 'hex'),
  sha384: Buffer.from('3041300d060960864801650304020205000430', 'hex'),
  sha512: Buffer.from('3051300d060960864801650304020305000440', 'hex'),
};

/** Runs one task with the keys a worker thread holds; keys are opened once per thread and kept. */
export function createTaskRunner(keys: PoolKeys) {
  const pemKeys = new Map<string, KeyObject>();
  const pgpKeys = new Map<string, ReturnType<typeof openOpenPgpKey>>();
  const keyConfig = (keyId: string) => {
    const key = keys[keyId];
    if (!key) throw new Error(`no key "${keyId}" in this worker`);
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
        const algorithm = MAR_ALGORITHMS[keyConfig(task.keyId).marAlgorithm ?? 0];
        if (!algorithm) throw new Error(`key "${task.keyId}" has no MAR algorithm`);
        return signMar(mar.entries, mar.sections, algorithm, pemKey(task.keyId));
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
        const prefix = DIGEST_INFO[task.hash];
        return privateEncrypt(
          { key: pemKey(task.keyId), padding: constants.RSA_PKCS1_PADDING },
          Buffer.concat([prefix, task.digest]),
        );
      }
    }
  };
}

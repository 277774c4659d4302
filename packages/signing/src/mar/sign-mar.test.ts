import { generateKeyPairSync, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MAR_ALGORITHMS } from './mar-algorithms.ts';
import { readMar } from './mar-file.ts';
import { keyObjectMarSigner, signMar } from './sign-mar.ts';
import { signedParts } from './write-mar.ts';

const entries = [{ name: 'updatev3.manifest', flags: 0o644, data: Buffer.from('add "x"\n') }];

describe('signMar with ECDSA (algorithms 3 and 4, as margo reads them)', () => {
  for (const [id, curve, hash, length] of [
    [3, 'prime256v1', 'sha256', 64],
    [4, 'secp384r1', 'sha384', 96],
  ] as const) {
    it(`algorithm ${id}: ${curve}, ${hash}, a ${length}-byte r‖s signature`, () => {
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: curve });
      const algorithm = MAR_ALGORITHMS[id];
      if (!algorithm) throw new Error(`no algorithm ${id}`);
      const signed = signMar(entries, [], keyObjectMarSigner(algorithm, privateKey));
      const [signature] = readMar(signed).signatures;
      expect([signature?.algorithm, signature?.bytes.length]).toEqual([id, length]);
      const covered = Buffer.concat(signedParts(signed));
      expect(verify(hash, covered, { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature?.bytes as Buffer)).toBe(
        true,
      );
    });
  }
});

import { createHash, createPublicKey, verify } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTestKeys,
  makePeFile,
  startTestSigner,
  TEST_KEY_IDS,
  type TestKeys,
  type TestSigner,
} from '../src/testing/index.ts';
import { gpgVerify, opensslVerifies, osslsigncodeVerify, scratch } from './helpers/tools.ts';
import { startTestTsa, type TestTsa } from './helpers/tsa-server.ts';

let dir: string;
let keys: TestKeys;
let tsa: TestTsa;
let signer: TestSigner;

beforeAll(async () => {
  dir = await scratch();
  keys = await createTestKeys(join(dir, 'keys'));
  tsa = await startTestTsa(keys, dir);
  signer = await startTestSigner({ dir, keys, timestampUrl: tsa.url });
});
afterAll(async () => {
  await signer?.close();
  await tsa?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('authenticode', () => {
  it('signs a PE with the certificate chain and a timestamp from the configured TSA, as osslsigncode verifies', async () => {
    const installer = makePeFile(Buffer.from('setup-de.exe payload '.repeat(500)));
    const { output } = await signer
      .client(['authenticode'])
      .signFile('authenticode', TEST_KEY_IDS.authenticode, installer);
    const report = await osslsigncodeVerify(output, keys.caCertificate);
    expect(report).toMatch(/Signature verification: ok/);
    expect(report).toMatch(/Switchyard Test Code Signing/);
    expect(report).toMatch(/Timestamp verified using:[\s\S]*Subject: \/CN=Switchyard Test TSA/);
    expect(tsa.requests()).toBeGreaterThan(0);
  });

  it('refuses a file that is not a PE with a 400 saying so', async () => {
    await expect(
      signer
        .client(['authenticode'])
        .signFile('authenticode', TEST_KEY_IDS.authenticode, Buffer.from('#!/bin/sh\necho hi\n')),
    ).rejects.toMatchObject({ status: 400, message: expect.stringContaining('osslsigncode cannot sign it') });
  });
});

describe('gpg', () => {
  it("makes an armored detached signature that Debian's gpg verifies", async () => {
    const tarball = Buffer.from('firefox-128.0.tar.bz2 contents '.repeat(1000));
    const { output } = await signer.client(['gpg']).signFile('gpg', TEST_KEY_IDS.gpg, tarball);
    expect(output.toString()).toMatch(/^-----BEGIN PGP SIGNATURE-----/);
    expect(await gpgVerify(keys.openPgpPublicKey, tarball, output)).toMatch(
      /Good signature from "Switchyard Test Release/,
    );
    await expect(gpgVerify(keys.openPgpPublicKey, Buffer.from('tampered'), output)).rejects.toThrow(/BAD signature/);
  });
});

describe('hash', () => {
  it('signs a digest the caller computed (PKCS#1 v1.5), verifiable over the original bytes', async () => {
    const bytes = Buffer.from('a huge file, hashed where it lies');
    const digest = createHash('sha384').update(bytes).digest();
    const signature = await signer.client(['hash']).signHash(TEST_KEY_IDS.mar, 'sha384', digest);
    expect(signature.length).toBe(512);
    expect(await opensslVerifies(keys.marPublicKey, 'sha384', bytes, signature)).toBe(true);
    expect(verify('sha384', bytes, createPublicKey(await readFile(keys.marPublicKey)), signature)).toBe(true);
  });

  it('refuses a digest of the wrong length for its algorithm', async () => {
    await expect(signer.client(['hash']).signHash(TEST_KEY_IDS.mar, 'sha384', Buffer.alloc(32))).rejects.toMatchObject({
      status: 400,
      message: expect.stringContaining('48 bytes'),
    });
  });
});

/**
 * @module
 * Real keys for tests and the benchmark, made with the tools a release team would use: a
 * 4096-bit RSA MAR key, a test CA with a code-signing certificate and a timestamping
 * certificate (openssl), and an OpenPGP key (gpg).
 */
import { execFile } from 'node:child_process';
import { generateKeyPair } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const generate = promisify(generateKeyPair);

export interface TestKeys {
  dir: string;
  /** 4096-bit RSA, PKCS#8 PEM: MAR algorithm 2. */
  marKey: string;
  marPublicKey: string;
  /** 2048-bit RSA: MAR algorithm 1, the "old key". */
  oldMarKey: string;
  oldMarPublicKey: string;
  caCertificate: string;
  codeSigningKey: string;
  /** The code-signing certificate followed by the CA's. */
  codeSigningChain: string;
  tsaKey: string;
  tsaCertificate: string;
  /** An armored OpenPGP secret key, and its public half. */
  openPgpKey: string;
  openPgpPublicKey: string;
}

export async function createTestKeys(dir: string): Promise<TestKeys> {
  await mkdir(dir, { recursive: true });
  const path = (name: string) => join(dir, name);
  const [mar, oldMar] = await Promise.all([rsaKeyPair(4096), rsaKeyPair(2048)]);
  await Promise.all([
    writeFile(path('mar.pem'), mar.privateKey),
    writeFile(path('mar.pub.pem'), mar.publicKey),
    writeFile(path('mar-old.pem'), oldMar.privateKey),
    writeFile(path('mar-old.pub.pem'), oldMar.publicKey),
  ]);
  await openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    path('ca.key'),
    '-out',
    path('ca.pem'),
    '-days',
    '7',
    '-subj',
    '/CN=Switchyard Test CA',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  );
  await issue(
    dir,
    'code',
    '/CN=Switchyard Test Code Signing',
    'extendedKeyUsage=codeSigning\nkeyUsage=critical,digitalSignature\n',
  );
  await issue(
    dir,
    'tsa',
    '/CN=Switchyard Test TSA',
    'extendedKeyUsage=critical,timeStamping\nkeyUsage=critical,digitalSignature\n',
  );
  await writeFile(
    path('code-chain.pem'),
    Buffer.concat([await readFile(path('code.pem')), await readFile(path('ca.pem'))]),
  );
  await createOpenPgpKey(dir);
  return {
    dir,
    marKey: path('mar.pem'),
    marPublicKey: path('mar.pub.pem'),
    oldMarKey: path('mar-old.pem'),
    oldMarPublicKey: path('mar-old.pub.pem'),
    caCertificate: path('ca.pem'),
    codeSigningKey: path('code.key'),
    codeSigningChain: path('code-chain.pem'),
    tsaKey: path('tsa.key'),
    tsaCertificate: path('tsa.pem'),
    openPgpKey: path('release.asc'),
    openPgpPublicKey: path('release.pub.asc'),
  };
}

async function rsaKeyPair(bits: number) {
  return generate('rsa', {
    modulusLength: bits,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
}

async function issue(dir: string, name: string, subject: string, extensions: string): Promise<void> {
  const path = (file: string) => join(dir, file);
  await writeFile(path(`${name}.ext`), extensions);
  await openssl(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    path(`${name}.key`),
    '-out',
    path(`${name}.csr`),
    '-subj',
    subject,
  );
  await openssl(
    'x509',
    '-req',
    '-in',
    path(`${name}.csr`),
    '-CA',
    path('ca.pem'),
    '-CAkey',
    path('ca.key'),
    '-CAcreateserial',
    '-out',
    path(`${name}.pem`),
    '-days',
    '7',
    '-extfile',
    path(`${name}.ext`),
  );
}

async function openssl(...args: string[]): Promise<void> {
  await run('openssl', args);
}

/** An ed25519 signing key made by Debian's gpg in a throw-away home, exported armored. */
async function createOpenPgpKey(dir: string): Promise<void> {
  const home = join(dir, 'gnupg');
  await mkdir(home, { recursive: true, mode: 0o700 });
  const gpg = (...args: string[]) =>
    run('gpg', ['--homedir', home, '--batch', '--quiet', ...args], { maxBuffer: 1 << 20 });
  await gpg(
    '--passphrase',
    '',
    '--pinentry-mode',
    'loopback',
    '--quick-gen-key',
    'Switchyard Test Release <release@example.org>',
    'ed25519',
    'sign',
    'never',
  );
  await writeFile(
    join(dir, 'release.asc'),
    (await gpg('--pinentry-mode', 'loopback', '--passphrase', '', '--armor', '--export-secret-keys')).stdout,
  );
  await writeFile(join(dir, 'release.pub.asc'), (await gpg('--armor', '--export')).stdout);
  await run('gpgconf', ['--homedir', home, '--kill', 'all']).catch(() => {});
}

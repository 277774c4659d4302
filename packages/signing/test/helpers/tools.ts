/**
 * @module
 * The real tools the tests check the signer with: openssl, xz and bzip2 as Firefox's packaging
 * runs them, gpg and osslsigncode. Each takes files in a scratch directory.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Runs `command` with `input` on stdin and returns stdout. */
export function pipeThrough(command: string, args: string[], input: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => {
      err += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(Buffer.concat(out)) : reject(new Error(`${command}: ${err}`))));
    child.stdin.end(input);
  });
}

/** Firefox's make_full_update.sh: BCJ-x86, LZMA2, CRC64. */
export const xzLikeFirefox = (data: Buffer) =>
  pipeThrough('xz', ['--compress', '--x86', '--lzma2', '--format=xz', '--check=crc64', '--stdout'], data);
export const bzip2LikeFirefox = (data: Buffer) => pipeThrough('bzip2', ['-z9', '--stdout'], data);
export const unxz = (data: Buffer) => pipeThrough('xz', ['--decompress', '--stdout'], data);
export const bunzip2 = (data: Buffer) => pipeThrough('bzip2', ['-d', '--stdout'], data);

export async function scratch(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'switchyard-signing-test-'));
}

/** `openssl dgst -<hash> -verify`: true when the signature over `data` checks with the public key. */
export async function opensslVerifies(
  publicKey: string,
  hash: string,
  data: Buffer,
  signature: Buffer,
): Promise<boolean> {
  const dir = await scratch();
  await writeFile(join(dir, 'data'), data);
  await writeFile(join(dir, 'sig'), signature);
  try {
    const { stdout } = await run('openssl', [
      'dgst',
      `-${hash}`,
      '-verify',
      publicKey,
      '-signature',
      join(dir, 'sig'),
      join(dir, 'data'),
    ]);
    return stdout.trim() === 'Verified OK';
  } catch {
    return false;
  }
}

/** `osslsigncode verify` against the test CA; its output, or throws with it when verification fails. */
export async function osslsigncodeVerify(file: Buffer, caCertificate: string): Promise<string> {
  const dir = await scratch();
  await writeFile(join(dir, 'signed.exe'), file);
  const { stdout } = await run('osslsigncode', [
    'verify',
    '-CAfile',
    caCertificate,
    '-TSA-CAfile',
    caCertificate,
    '-in',
    join(dir, 'signed.exe'),
  ]);
  return stdout;
}

/** `gpg --verify` in a fresh home holding only the public key. */
export async function gpgVerify(publicKey: string, data: Buffer, signature: Buffer): Promise<string> {
  const home = await scratch();
  const gpg = (...args: string[]) => run('gpg', ['--homedir', home, '--batch', ...args]);
  await gpg('--import', publicKey);
  await writeFile(join(home, 'data'), data);
  await writeFile(join(home, 'data.asc'), signature);
  try {
    const { stderr } = await gpg('--verify', join(home, 'data.asc'), join(home, 'data'));
    return stderr;
  } finally {
    await run('gpgconf', ['--homedir', home, '--kill', 'all']).catch(() => {});
  }
}

/**
 * @module
 * Authenticode through Debian's osslsigncode: PE and PKCS#7 handling is its job, not ours. The
 * private key is handed over on a pipe (`-key /dev/fd/3`), decrypted in this process, so a
 * passphrase-protected key never lands on disk unprotected and never shows in `ps`.
 */
import { execFile, spawn } from 'node:child_process';
import type { KeyObject } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { TaskInputError } from '../pool/worker-pool.ts';

const run = promisify(execFile);

/** "osslsigncode 2.9": part of the cache key, since another version may sign differently. */
export async function osslsigncodeVersion(): Promise<string> {
  try {
    const { stdout } = await run('osslsigncode', ['--version']);
    return (stdout.split('\n')[0] ?? '').split(',')[0]?.trim() || 'osslsigncode';
  } catch {
    throw new Error('osslsigncode is not installed (apt-get install osslsigncode); the authenticode format needs it');
  }
}

/** The timestamp authority could not be reached or refused: the signer's problem, not the caller's. */
export class TimestampError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TimestampError';
  }
}

export interface AuthenticodeKey {
  privateKey: KeyObject;
  certificates: string;
  timestampUrl?: string;
}

export async function signAuthenticode(key: AuthenticodeKey, input: Buffer, scratch: string): Promise<Buffer> {
  const dir = await mkdtemp(join(scratch, 'authenticode-'));
  try {
    const inPath = join(dir, 'in');
    const outPath = join(dir, 'out');
    await writeFile(inPath, input);
    const args = ['sign', '-certs', key.certificates, '-key', '/dev/fd/3', '-h', 'sha256'];
    if (key.timestampUrl) args.push('-ts', key.timestampUrl);
    args.push('-in', inPath, '-out', outPath);
    const pem = key.privateKey.export({ type: 'pkcs8', format: 'pem' });
    const { code, output } = await runWithKeyPipe(args, pem);
    if (code !== 0) {
      const reason = output.trim().split('\n').slice(-3).join(' ') || `exit code ${code}`;
      if (/timestamp/i.test(reason)) throw new TimestampError(`the timestamp authority failed: ${reason}`);
      throw new TaskInputError(`osslsigncode cannot sign it (not a PE/MSI file it accepts?): ${reason}`);
    }
    return await readFile(outPath);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function runWithKeyPipe(args: string[], keyPem: string | Buffer): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('osslsigncode', args, { stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const keyPipe = child.stdio[3] as NodeJS.WritableStream;
    // osslsigncode may fail before reading the key; its exit status says why, not the broken pipe.
    keyPipe.on('error', () => {});
    keyPipe.end(keyPem);
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, output }));
  });
}

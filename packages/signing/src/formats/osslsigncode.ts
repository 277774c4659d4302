/**
 * @module
 * Authenticode through Debian's osslsigncode: PE and PKCS#7 handling is its job, not ours. The
 * key is opened (decrypted) by this process and written for osslsigncode to a file only its
 * owner can read, in a directory only its owner can enter, removed as soon as it has signed; a
 * passphrase never appears on a command line. (A pipe won't do: Node's stdio pipes are sockets,
 * which OpenSSL's fopen of /dev/fd/N refuses.)
 */
import { execFile, spawn } from 'node:child_process';
import type { KeyObject } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { TaskInputError } from '../pool/task-input-error.ts';

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
    const keyPath = join(dir, 'key.pem');
    await writeFile(keyPath, key.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    const args = ['sign', '-certs', key.certificates, '-key', keyPath, '-h', 'sha256'];
    if (key.timestampUrl) args.push('-ts', key.timestampUrl);
    args.push('-in', inPath, '-out', outPath);
    const { code, output } = await runOsslsigncode(args);
    await rm(keyPath, { force: true });
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

function runOsslsigncode(args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('osslsigncode', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, output }));
  });
}

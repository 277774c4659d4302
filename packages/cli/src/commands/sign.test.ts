import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createTestKeys, makePeFile, type TestKeys, writeTestSignerConfig } from '@switchyard/signing/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliRun, runCli, startCli } from '../testing/run-cli.ts';

const run = promisify(execFile);

describe('switchyard signer and switchyard sign', () => {
  let dir: string;
  let keys: TestKeys;
  let signer: CliRun;
  let url: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sign-cli-'));
    keys = await createTestKeys(join(dir, 'keys'));
    const { file, env } = await writeTestSignerConfig({ dir, keys });
    // The signer reads its secret from the environment; the CLI processes inherit this one.
    Object.assign(process.env, env);
    signer = startCli(['signer', '--config', file, '--listen', '127.0.0.1:0']);
    await signer.waitFor('listening on');
    url = /listening on (http:\/\/\S+)/.exec(signer.stderr())?.[1] as string;
  });
  afterAll(async () => {
    signer?.child.kill('SIGTERM');
    await signer?.exited;
    await rm(dir, { recursive: true, force: true });
  });

  async function token(formats: string): Promise<string> {
    const minted = await runCli([
      'signer',
      'token',
      '--config',
      join(dir, 'signer.yaml'),
      '--job',
      '42',
      '--formats',
      formats,
    ]);
    expect(minted.code).toBe(0);
    return minted.stdout.trim();
  }

  it('signs files as a job would, with the signer and token from the environment', async () => {
    const exe = join(dir, 'setup.exe');
    const notes = join(dir, 'notes.txt');
    await writeFile(exe, makePeFile(Buffer.from('installer '.repeat(300))));
    await writeFile(notes, 'release notes\n');
    process.env.SWITCHYARD_SIGNER = url;
    process.env.SWITCHYARD_SIGNING_TOKEN = await token('authenticode,gpg');
    try {
      const signed = await runCli([
        'sign',
        '--format',
        'authenticode',
        '--key',
        'release-authenticode',
        '--out-dir',
        join(dir, 'out'),
        exe,
      ]);
      expect(signed.stderr).toMatch(/\[1\/1\] setup\.exe → .*out\/setup\.exe \(signed, /);
      const verified = await run('osslsigncode', [
        'verify',
        '-CAfile',
        keys.caCertificate,
        '-in',
        join(dir, 'out', 'setup.exe'),
      ]);
      expect(verified.stdout).toMatch(/Signature verification: ok/);

      expect((await runCli(['sign', '--format', 'gpg', '--key', 'release-gpg', notes])).code).toBe(0);
      expect(await readFile(`${notes}.asc`, 'utf8')).toMatch(/BEGIN PGP SIGNATURE/);

      const again = await runCli([
        'sign',
        '--format',
        'authenticode',
        '--key',
        'release-authenticode',
        '--out-dir',
        join(dir, 'again'),
        exe,
      ]);
      expect(again.stderr).toMatch(/cache hit, not uploaded/);
    } finally {
      delete process.env.SWITCHYARD_SIGNER;
      delete process.env.SWITCHYARD_SIGNING_TOKEN;
    }
  });

  it('fails with the signer’s reason when the token does not allow the format', async () => {
    const file = join(dir, 'update.mar');
    await writeFile(file, 'not even a MAR');
    const refused = await runCli([
      'sign',
      '--format',
      'mar',
      '--key',
      'release-mar',
      '--signer',
      url,
      '--token',
      await token('gpg'),
      file,
    ]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/error: the token of job 42 attempt 1 allows gpg, not mar \(HTTP 403 forbidden\)/);
  });
});

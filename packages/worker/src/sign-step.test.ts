import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { selectFilesToSign } from './sign-step.ts';

describe('the files a job signs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sign-step-'));
  mkdirSync(join(dir, 'dist'));
  for (const name of ['b.mar', 'a.mar', 'app.bin']) writeFileSync(join(dir, 'dist', name), name);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('are replaced in place, go to `to`, or get a detached .asc beside them (gpg)', async () => {
    const { files, problems } = await selectFilesToSign(
      [
        { files: 'dist/*.mar', format: 'mar', key: 'release-mar', optional: false },
        { files: 'dist/app.bin', format: 'gpg', key: 'release-gpg', optional: false },
        { files: 'dist/app.bin', format: 'gpg', key: 'release-gpg', to: 'signed', optional: false },
      ],
      dir,
    );
    expect(problems).toEqual([]);
    expect(files.map((file) => [file.path, file.output.slice(dir.length + 1)])).toEqual([
      ['dist/a.mar', 'dist/a.mar'],
      ['dist/b.mar', 'dist/b.mar'],
      ['dist/app.bin', 'dist/app.bin.asc'],
      ['dist/app.bin', 'signed/app.bin.asc'],
    ]);
  });

  it('that are missing fail the job unless optional', async () => {
    const { files, problems } = await selectFilesToSign(
      [
        { files: 'dist/*.exe', format: 'authenticode', key: 'code', optional: false },
        { files: 'dist/setup.msi', format: 'authenticode', key: 'code', optional: true },
      ],
      dir,
    );
    expect(files).toEqual([]);
    expect(problems).toEqual(['sign dist/*.exe: no file matches dist/*.exe']);
  });
});

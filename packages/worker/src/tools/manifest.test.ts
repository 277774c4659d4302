import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  formatManifest,
  ManifestError,
  parseManifest,
  readManifest,
  type ToolManifestRecord,
  writeManifest,
} from './manifest.ts';
import { addToManifest, validateManifest } from './manifest-edit.ts';

const DIGEST = 'ab'.repeat(64);
const good = { filename: 'clang.tar.zst', size: 10, digest: DIGEST, algorithm: 'sha512' };

function problems(records: unknown): string[] {
  try {
    parseManifest('tools.tt', JSON.stringify(records));
  } catch (error) {
    expect(error).toBeInstanceOf(ManifestError);
    return (error as ManifestError).problems;
  }
  throw new Error('the manifest was accepted');
}

/** A manifest exactly as tooltool's client writes one (json.dumps, indent 2, no newline at the end). */
const TOOLTOOL_OUTPUT = `[
  {
    "filename": "gcc.tar.xz",
    "size": 81234567,
    "algorithm": "sha512",
    "digest": "${'0f'.repeat(64)}",
    "unpack": true,
    "version": "gcc 4.9.4 \\u00e9dition",
    "visibility": "public"
  },
  {
    "filename": "setup.sh",
    "size": 0,
    "algorithm": "sha512",
    "digest": "${'1e'.repeat(64)}",
    "setup": "setup.sh"
  }
]`;

describe('tooltool manifests', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'manifest-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reads a record with its optional keys, and keeps keys it does not use', () => {
    const manifest = parseManifest('tools.tt', TOOLTOOL_OUTPUT);
    expect(manifest.records).toEqual([
      {
        filename: 'gcc.tar.xz',
        size: 81234567,
        algorithm: 'sha512',
        digest: '0f'.repeat(64),
        unpack: true,
        version: 'gcc 4.9.4 édition',
        visibility: 'public',
      },
      { filename: 'setup.sh', size: 0, algorithm: 'sha512', digest: '1e'.repeat(64), extra: { setup: 'setup.sh' } },
    ]);
  });

  it('writes a manifest back byte for byte as tooltool wrote it', async () => {
    const path = join(dir, 'manifest.tt');
    writeFileSync(path, TOOLTOOL_OUTPUT);
    await writeManifest(await readManifest(path));
    expect(readFileSync(path, 'utf8')).toBe(TOOLTOOL_OUTPUT);
    writeFileSync(path, `${TOOLTOOL_OUTPUT}\n`);
    await writeManifest(await readManifest(path));
    expect(readFileSync(path, 'utf8')).toBe(`${TOOLTOOL_OUTPUT}\n`);
  });

  it('names the record, the key and what was expected for each problem', () => {
    expect(problems([good, { ...good, filename: 'x', digest: 'ABC' }])).toEqual([
      '[1].digest: expected 128 lower-case hex digits (a sha512), got "ABC"',
    ]);
    expect(problems([{ ...good, digest: DIGEST.toUpperCase() }])[0]).toMatch(/^\[0\]\.digest: expected 128 lower-case/);
    expect(problems([{ ...good, filename: 'bin/clang' }])).toEqual([
      '[0].filename: expected a file name without "/" or "\\", not "." or "..", and not the tree\'s .git or .hg, got "bin/clang"',
    ]);
    // Placed or unpacked, these would replace the tree's own version control.
    for (const name of ['.git', '.HG', '.git.tar.gz', '.hg.zip']) {
      expect(problems([{ ...good, filename: name }])[0]).toMatch(/^\[0\]\.filename: .*not the tree's \.git or \.hg/);
    }
    expect(problems([{ ...good, filename: 'a\\b' }])[0]).toMatch(/^\[0\]\.filename:/);
    expect(problems([{ ...good, filename: '..' }])[0]).toMatch(/^\[0\]\.filename: .*got "\.\."/);
    expect(problems([{ ...good, filename: '.' }])[0]).toMatch(/^\[0\]\.filename: .*got "\."/);
    expect(problems([{ ...good, size: -1 }])).toEqual(['[0].size: expected a non-negative integer (bytes), got -1']);
    expect(problems([{ ...good, size: 1.5 }])[0]).toMatch(/^\[0\]\.size: .*got 1\.5/);
    expect(problems([{ ...good, size: '10' }])[0]).toMatch(/^\[0\]\.size: .*got "10"/);
    expect(problems([{ ...good, algorithm: 'sha256' }])).toEqual(['[0].algorithm: expected "sha512", got "sha256"']);
    expect(problems([{ ...good, visibility: 'secret' }])).toEqual([
      '[0].visibility: expected "public" or "internal", got "secret"',
    ]);
    const { digest: _, ...noDigest } = good;
    expect(problems([noDigest])).toEqual(['[0].digest: expected 128 lower-case hex digits (a sha512), missing']);
    expect(problems([good, { ...good, digest: 'cd'.repeat(64) }])).toEqual([
      '[1].filename: "clang.tar.zst" is listed twice (also at [0])',
    ]);
    expect(problems([good, 'clang'])).toEqual(['[1]: expected an object with filename, size, digest and algorithm']);
    expect(problems({ files: [good] })).toEqual(['expected a JSON array of file records']);
  });

  it('reads unpack as tooltool does, by Python truthiness, and writes it back as a boolean', () => {
    const unpackOf = (unpack: unknown) =>
      parseManifest('tools.tt', JSON.stringify([{ ...good, unpack, setup: 'setup.sh', version: '1' }])).records[0];
    for (const truthy of ['True', 'False', 'yes', 1, [0], { a: 1 }, true]) expect(unpackOf(truthy)?.unpack).toBe(true);
    for (const falsy of [false, null, 0, '', [], {}]) expect(unpackOf(falsy)?.unpack).toBe(false);
    const mozilla = unpackOf('True');
    expect(mozilla).toMatchObject({ version: '1', extra: { setup: 'setup.sh' } });
    expect(JSON.parse(formatManifest([mozilla as ToolManifestRecord]))[0]).toMatchObject({
      unpack: true,
      setup: 'setup.sh',
    });
  });

  it('reports every problem of a manifest at once, naming the file', () => {
    expect(() => parseManifest('tools.tt', JSON.stringify([{ ...good, size: -1, algorithm: 'md5' }]))).toThrow(
      'tools.tt is not a valid tooltool manifest:\n  [0].size: expected a non-negative integer (bytes), got -1\n  [0].algorithm: expected "sha512", got "md5"',
    );
    expect(() => parseManifest('tools.tt', '[{"filename": ')).toThrow(/^tools\.tt: not JSON: /);
  });

  it('says so when the manifest is not there', async () => {
    await expect(readManifest(join(dir, 'none.tt'))).rejects.toThrow(`${join(dir, 'none.tt')}: no such file`);
  });

  it('adds files, refuses a different file under a listed name, and takes the same file again as a no-op', async () => {
    const manifest = join(dir, 'manifest.tt');
    writeFileSync(join(dir, 'tool.tar.gz'), 'tool v1');
    writeFileSync(join(dir, 'notes.txt'), 'notes');
    const first = await addToManifest(manifest, [join(dir, 'tool.tar.gz')], { visibility: 'public', unpack: true });
    expect(first.added.map((record) => record.filename)).toEqual(['tool.tar.gz']);
    const second = await addToManifest(manifest, [join(dir, 'tool.tar.gz'), join(dir, 'notes.txt')]);
    expect(second).toEqual({ added: [expect.objectContaining({ filename: 'notes.txt' })], unchanged: ['tool.tar.gz'] });
    const written = readFileSync(manifest, 'utf8');
    expect(JSON.parse(written)).toEqual([
      {
        filename: 'tool.tar.gz',
        size: 7,
        algorithm: 'sha512',
        digest: createHash('sha512').update('tool v1').digest('hex'),
        unpack: true,
        visibility: 'public',
      },
      {
        filename: 'notes.txt',
        size: 5,
        algorithm: 'sha512',
        digest: createHash('sha512').update('notes').digest('hex'),
      },
    ]);
    writeFileSync(join(dir, 'tool.tar.gz'), 'tool v2');
    writeFileSync(join(dir, 'more.txt'), 'more');
    await expect(addToManifest(manifest, [join(dir, 'more.txt'), join(dir, 'tool.tar.gz')])).rejects.toThrow(
      'the manifest already lists a different file named "tool.tar.gz"',
    );
    expect(readFileSync(manifest, 'utf8')).toBe(written);
    await expect(addToManifest(manifest, [join(dir, 'absent.bin')])).rejects.toThrow('absent.bin: no such file');
  });

  it('validates the files of a manifest: ok, missing, wrong size, wrong digest', async () => {
    const manifest = join(dir, 'manifest.tt');
    for (const name of ['a', 'b', 'c', 'd']) writeFileSync(join(dir, name), `content of ${name}`);
    await addToManifest(
      manifest,
      ['a', 'b', 'c', 'd'].map((name) => join(dir, name)),
    );
    expect(await validateManifest(manifest, dir)).toEqual({
      valid: true,
      files: ['a', 'b', 'c', 'd'].map((filename) => ({ filename, status: 'ok' })),
    });
    rmSync(join(dir, 'b'));
    writeFileSync(join(dir, 'c'), 'content of c, longer');
    writeFileSync(join(dir, 'd'), 'content of x');
    expect(await validateManifest(manifest, dir)).toEqual({
      valid: false,
      files: [
        { filename: 'a', status: 'ok' },
        { filename: 'b', status: 'missing' },
        { filename: 'c', status: 'wrong-size' },
        { filename: 'd', status: 'wrong-digest' },
      ],
    });
  });
});

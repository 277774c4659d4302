import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { create } from 'tar';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { unpackArchive } from './unpack.ts';

/** A zip of stored (uncompressed) entries made on Unix, with the modes given. */
function zipOf(entries: { name: string; content?: string; mode: number }[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = Buffer.from(entry.name);
    const data = Buffer.from(entry.content ?? '');
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt32LE(crc32(data), 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE((3 << 8) | 20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt32LE(crc32(data), 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE((entry.mode << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, data);
    centrals.push(central, name);
    offset += local.length + name.length + data.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

describe('unpackArchive', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'unpack-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('extracts a .tar.gz with its modes', async () => {
    mkdirSync(join(dir, 'stage/bin'), { recursive: true });
    writeFileSync(join(dir, 'stage/bin/tool.sh'), '#!/bin/sh\necho hi\n', { mode: 0o755 });
    writeFileSync(join(dir, 'stage/README'), 'read me\n');
    await create({ gzip: true, file: join(dir, 'app.tar.gz'), cwd: join(dir, 'stage') }, ['bin', 'README']);
    expect(await unpackArchive(join(dir, 'app.tar.gz'), 'app.tar.gz', join(dir, 'out'))).toBe(3);
    expect(readFileSync(join(dir, 'out/README'), 'utf8')).toBe('read me\n');
    expect(statSync(join(dir, 'out/bin/tool.sh')).mode & 0o111).not.toBe(0);
  });

  it('extracts a .zip, keeping execute bits but no setuid bit', async () => {
    writeFileSync(
      join(dir, 'app.zip'),
      zipOf([
        { name: 'bin/', mode: 0o040755 },
        { name: 'bin/tool.sh', content: '#!/bin/sh\n', mode: 0o104755 },
        { name: 'docs/notes.txt', content: 'notes', mode: 0o100644 },
      ]),
    );
    expect(await unpackArchive(join(dir, 'app.zip'), 'app.zip', join(dir, 'out'))).toBe(3);
    expect(readFileSync(join(dir, 'out/docs/notes.txt'), 'utf8')).toBe('notes');
    const mode = statSync(join(dir, 'out/bin/tool.sh')).mode;
    expect(mode & 0o111).not.toBe(0);
    expect(mode & 0o4000).toBe(0);
  });

  it('refuses zip entries that climb out of the directory, and links', async () => {
    writeFileSync(join(dir, 'evil.zip'), zipOf([{ name: '../escaped.txt', content: 'x', mode: 0o100644 }]));
    await expect(unpackArchive(join(dir, 'evil.zip'), 'evil.zip', join(dir, 'out'))).rejects.toThrow(/\.\./);
    expect(() => statSync(join(dir, 'escaped.txt'))).toThrow();
    writeFileSync(join(dir, 'link.zip'), zipOf([{ name: 'etc', content: '/etc', mode: 0o120777 }]));
    await expect(unpackArchive(join(dir, 'link.zip'), 'link.zip', join(dir, 'out2'))).rejects.toThrow(/links/);
  });

  it('never writes a zip entry through a link already in the directory', async () => {
    const outside = join(dir, 'outside');
    mkdirSync(outside);
    writeFileSync(join(outside, 'victim.txt'), 'untouched');
    const out = join(dir, 'out');
    mkdirSync(out);
    symlinkSync(outside, join(out, 'linked-dir'));
    symlinkSync(join(outside, 'victim.txt'), join(out, 'linked-file.txt'));
    writeFileSync(join(dir, 'a.zip'), zipOf([{ name: 'linked-dir/new.txt', content: 'x', mode: 0o100644 }]));
    await expect(unpackArchive(join(dir, 'a.zip'), 'a.zip', out)).rejects.toThrow(/outside .* through a link/);
    expect(() => statSync(join(outside, 'new.txt'))).toThrow();
    writeFileSync(join(dir, 'b.zip'), zipOf([{ name: 'linked-file.txt', content: 'replaced', mode: 0o100644 }]));
    expect(await unpackArchive(join(dir, 'b.zip'), 'b.zip', out)).toBe(1);
    expect(readFileSync(join(outside, 'victim.txt'), 'utf8')).toBe('untouched');
    expect(readFileSync(join(out, 'linked-file.txt'), 'utf8')).toBe('replaced');
  });

  it('makes no directory through a link already in the directory, for a file or a directory entry', async () => {
    const outside = join(dir, 'outside');
    mkdirSync(outside);
    const out = join(dir, 'out');
    mkdirSync(out);
    symlinkSync(outside, join(out, 'linked-dir'));
    writeFileSync(join(dir, 'file.zip'), zipOf([{ name: 'linked-dir/made/new.txt', content: 'x', mode: 0o100644 }]));
    await expect(unpackArchive(join(dir, 'file.zip'), 'file.zip', out)).rejects.toThrow(/outside .* through a link/);
    writeFileSync(join(dir, 'dir.zip'), zipOf([{ name: 'linked-dir/also/', mode: 0o040755 }]));
    await expect(unpackArchive(join(dir, 'dir.zip'), 'dir.zip', out)).rejects.toThrow(/outside .* through a link/);
    expect(readdirSync(outside)).toEqual([]);
  });

  it('refuses what it cannot unpack', async () => {
    writeFileSync(join(dir, 'x.bin'), 'x');
    await expect(unpackArchive(join(dir, 'x.bin'), 'x.bin', join(dir, 'out'))).rejects.toThrow(
      'cannot unpack "x.bin": not a .tar, .tar.gz, .tgz, .tar.xz, .tar.bz2, .tar.zst or .zip',
    );
  });

  /** A tar made by GNU tar from `stage/`, with its compression flag and any further arguments. */
  function gnuTar(archive: string, flags: string[], members: string[]): string {
    const file = join(dir, archive);
    execFileSync('tar', ['-cf', file, ...flags, '-C', join(dir, 'stage'), ...members], { stdio: 'pipe' });
    return file;
  }

  it.each([
    ['app.tar.xz', '-J'],
    ['app.tar.bz2', '-j'],
    ['app.tar.zst', '--zstd'],
    ['app.tgz', '-z'],
    ['app.tar', '--no-auto-compress'],
  ])('extracts a %s made by GNU tar through the system decompressor', async (archive, flag) => {
    mkdirSync(join(dir, 'stage/app/bin'), { recursive: true });
    writeFileSync(join(dir, 'stage/app/bin/cc'), '#!/bin/sh\n', { mode: 0o755 });
    symlinkSync('bin/cc', join(dir, 'stage/app/cc'));
    const file = gnuTar(archive, [flag], ['app']);
    expect(await unpackArchive(file, archive, join(dir, 'out'))).toBe(4);
    expect(statSync(join(dir, 'out/app/bin/cc')).mode & 0o111).not.toBe(0);
    expect(readFileSync(join(dir, 'out/app/cc'), 'utf8')).toBe('#!/bin/sh\n');
  });

  it('refuses tar entries that climb out, absolute paths, links pointing outside and setuid bits', async () => {
    mkdirSync(join(dir, 'stage'));
    writeFileSync(join(dir, 'stage/f'), 'x');
    symlinkSync('../../outside', join(dir, 'stage/up-link'));
    symlinkSync('/etc/passwd', join(dir, 'stage/abs-link'));
    writeFileSync(join(dir, 'stage/suid'), 'x', { mode: 0o755 });
    chmodSync(join(dir, 'stage/suid'), 0o4755);
    const cases: [string, string[], string[], RegExp][] = [
      ['up.tar.xz', ['-J', '-P', '--transform', 's,^,../,'], ['f'], /"\.\.\/f" climbs out/],
      ['abs.tar.gz', ['-z', '-P', '--transform', 's,^,/tmp/,'], ['f'], /"\/tmp\/f" is an absolute path/],
      ['up-link.tar.bz2', ['-j'], ['up-link'], /the link "up-link" points outside the directory/],
      ['abs-link.tar.zst', ['--zstd'], ['abs-link'], /the link "abs-link" points outside the directory/],
      ['suid.tar', [], ['suid'], /"suid" has the setuid or setgid bit/],
    ];
    for (const [archive, flags, members, expected] of cases) {
      const out = join(dir, `out-${archive}`);
      await expect(unpackArchive(gnuTar(archive, flags, members), archive, out)).rejects.toThrow(expected);
      expect(readdirSync(out)).toEqual([]);
    }
    expect(existsSync(join(dir, 'f'))).toBe(false);
  });

  it('names the missing decompressor and its Debian package', async () => {
    mkdirSync(join(dir, 'stage'));
    writeFileSync(join(dir, 'stage/f'), 'x');
    const file = gnuTar('a.tar.zst', ['--zstd'], ['f']);
    const path = process.env.PATH;
    process.env.PATH = join(dir, 'no-commands-here');
    try {
      await expect(unpackArchive(file, 'a.tar.zst', join(dir, 'out'))).rejects.toThrow(
        'cannot unpack "a.tar.zst": the zstd command is not installed (apt-get install zstd)',
      );
    } finally {
      process.env.PATH = path;
    }
  });

  it('reports a corrupt compressed archive with what the decompressor said', async () => {
    writeFileSync(join(dir, 'bad.tar.xz'), 'not xz at all');
    await expect(unpackArchive(join(dir, 'bad.tar.xz'), 'bad.tar.xz', join(dir, 'out'))).rejects.toThrow(
      /cannot unpack "bad\.tar\.xz": xz failed: .*format/i,
    );
  });
});

import { spawn } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { lstat, mkdir, realpath, unlink } from 'node:fs/promises';
import { dirname, isAbsolute, join, posix, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { type ArchiveKind, archiveKind } from '@switchyard/protocol';
import { ReadEntry, Unpack } from 'tar';
import yauzl from 'yauzl';

/**
 * The decompressors run as commands: pure-JS xz and bzip2 are far too slow for toolchains, and
 * Node 20's zlib has no zstd. Each is named with the Debian package that has it.
 */
const DECOMPRESSORS: Partial<Record<ArchiveKind, { command: string; debianPackage: string }>> = {
  'tar.xz': { command: 'xz', debianPackage: 'xz-utils' },
  'tar.bz2': { command: 'bzip2', debianPackage: 'bzip2' },
  'tar.zst': { command: 'zstd', debianPackage: 'zstd' },
};

/**
 * Extracts a .tar, .tar.gz (.tgz), .tar.xz, .tar.bz2, .tar.zst or .zip into `directory`. Entries
 * can't land outside it: absolute paths and `..` are refused, and so are links that point outside
 * it (every link in a zip), writing through a link already in the directory, and tar entries with
 * the setuid or setgid bit. Files belong to the worker's user, not to whoever made the archive,
 * even when the worker runs as root. Returns how many entries were written.
 */
export async function unpackArchive(
  file: string,
  name: string,
  directory: string,
  signal?: AbortSignal,
): Promise<number> {
  const kind = archiveKind(name);
  if (kind === null) {
    throw new Error(`cannot unpack "${name}": not a .tar, .tar.gz, .tgz, .tar.xz, .tar.bz2, .tar.zst or .zip`);
  }
  await mkdir(directory, { recursive: true });
  if (kind === 'zip') return unzip(file, directory);
  const decompressor = DECOMPRESSORS[kind];
  if (!decompressor) return untar(createReadStream(file), name, directory, signal);
  const child = spawn(decompressor.command, ['-dc', '--', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  // Settles with the decompressor's own failure, or null when it succeeded or was stopped by us.
  const failure = new Promise<Error | null>((resolve) => {
    child.on('error', (error: NodeJS.ErrnoException) => {
      const missing = `the ${decompressor.command} command is not installed (apt-get install ${decompressor.debianPackage})`;
      resolve(error.code === 'ENOENT' ? new Error(`cannot unpack "${name}": ${missing}`) : error);
    });
    child.on('close', (code) => {
      const said = stderr.trim() || `exit ${code}`;
      resolve(
        code === 0 || code === null
          ? null
          : new Error(`cannot unpack "${name}": ${decompressor.command} failed: ${said}`),
      );
    });
  });
  try {
    const entries = await untar(child.stdout, name, directory, signal);
    const failed = await failure;
    if (failed) throw failed;
    return entries;
  } catch (error) {
    if (child.exitCode === null && child.signalCode === null) child.kill();
    // A cut or empty stream fails the tar reader too; the decompressor's complaint says why.
    throw (await failure) ?? error;
  }
}

/** Reads a tar stream (gzip is recognised by its magic bytes) and extracts it. */
function untar(input: Readable, name: string, directory: string, signal?: AbortSignal): Promise<number> {
  return new Promise((resolve, reject) => {
    let entries = 0;
    const unpack: Unpack = new Unpack({
      cwd: directory,
      preserveOwner: false,
      strict: true,
      // Asked before anything of the entry is written; a refusal stops the whole archive.
      filter: (_path, entry) => {
        const problem = entry instanceof ReadEntry ? refusal(entry) : null;
        if (problem !== null) {
          unpack.abort(new Error(`refusing to unpack "${name}": ${problem}`));
          return false;
        }
        entries += 1;
        return true;
      },
    });
    const fail = (error: Error) => {
      signal?.removeEventListener('abort', aborted);
      input.destroy();
      reject(error);
    };
    const aborted = () => fail(signal?.reason as Error);
    if (signal?.aborted) return aborted();
    signal?.addEventListener('abort', aborted, { once: true });
    input.on('error', fail);
    unpack.on('error', fail);
    unpack.on('close', () => {
      signal?.removeEventListener('abort', aborted);
      resolve(entries);
    });
    input.pipe(unpack);
  });
}

const SETUID_SETGID = 0o6000;

/** Why a tar entry must not be extracted, or null. */
function refusal(entry: ReadEntry): string | null {
  const path = entry.path;
  if (isAbsolute(path) || /^[a-z]:/i.test(path)) return `"${path}" is an absolute path`;
  if (path.split(/[\\/]/).includes('..')) return `"${path}" climbs out of the directory`;
  if ((entry.mode ?? 0) & SETUID_SETGID) return `"${path}" has the setuid or setgid bit`;
  if (entry.type === 'SymbolicLink' || entry.type === 'Link') {
    const target = String(entry.linkpath ?? '');
    // A symbolic link is read from its own directory, a hard link from the archive's root.
    const base = entry.type === 'SymbolicLink' ? posix.dirname(path) : '.';
    const resolved = posix.normalize(posix.join(base, target));
    if (isAbsolute(target) || resolved === '..' || resolved.startsWith('../')) {
      return `the link "${path}" points outside the directory (to ${target})`;
    }
  }
  return null;
}

/** The file type bits of a zip entry made on Unix, in the high half of its external attributes. */
const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;

function unzip(file: string, directory: string): Promise<number> {
  return new Promise((resolve, reject) => {
    yauzl.open(file, { lazyEntries: true, strictFileNames: true, validateEntrySizes: true }, (error, zip) => {
      if (error) {
        reject(error);
        return;
      }
      let entries = 0;
      const fail = (cause: Error) => {
        zip.close();
        reject(cause);
      };
      zip.on('error', fail);
      zip.on('end', () => resolve(entries));
      zip.on('entry', (entry: yauzl.Entry) => {
        const mode = (entry.externalFileAttributes >>> 16) & 0xffff;
        const target = join(directory, entry.fileName);
        entries += 1;
        if (entry.fileName.endsWith('/')) {
          checkInside(directory, target, entry.fileName)
            .then(() => mkdir(target, { recursive: true }))
            .then(() => zip.readEntry(), fail);
          return;
        }
        if ((mode & S_IFMT) === S_IFLNK) {
          fail(new Error(`refusing to unpack "${entry.fileName}": links are not extracted from a zip`));
          return;
        }
        zip.openReadStream(entry, (streamError, stream) => {
          if (streamError) {
            fail(streamError);
            return;
          }
          // Permission bits only: no setuid, setgid or sticky bit from an archive.
          const permissions = mode & 0o777 || 0o644;
          checkInside(directory, dirname(target), entry.fileName)
            .then(() => mkdir(dirname(target), { recursive: true }))
            .then(() => replaceLink(target))
            .then(() => pipeline(stream, createWriteStream(target, { mode: permissions })))
            .then(() => zip.readEntry(), fail);
        });
      });
      zip.readEntry();
    });
  });
}

/**
 * The directory may already hold links (a checked-out tree can): nothing of an entry, not even
 * a directory on its way, may be made through one that leads outside. What mkdir would go
 * through is the deepest part of `path` that exists, so that is what must resolve inside.
 */
async function checkInside(directory: string, path: string, entryName: string): Promise<void> {
  const root = await realpath(directory);
  let existing = path;
  while (
    existing !== root &&
    !(await lstat(existing).then(
      () => true,
      () => false,
    ))
  )
    existing = dirname(existing);
  const resolved = await realpath(existing).catch(() => null);
  if (resolved === null || (resolved !== root && !resolved.startsWith(root + sep))) {
    throw new Error(`refusing to unpack "${entryName}": its directory leads outside ${directory} through a link`);
  }
}

/** A link where the file itself goes is replaced, not followed. */
async function replaceLink(target: string): Promise<void> {
  const existing = await lstat(target).catch(() => null);
  if (existing?.isSymbolicLink()) await unlink(target);
}

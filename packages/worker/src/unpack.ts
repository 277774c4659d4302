import { createWriteStream } from 'node:fs';
import { lstat, mkdir, realpath, unlink } from 'node:fs/promises';
import { dirname, join, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { archiveKind } from '@switchyard/protocol';
import { extract } from 'tar';
import yauzl from 'yauzl';

/**
 * Extracts a .tar, .tar.gz, .tgz or .zip into `directory`. Entries can't land outside it:
 * absolute paths and `..` are refused (by tar, and by yauzl's name checks), and so are links
 * in a zip, and writing through a link already in the directory. Files belong to the worker's user, not to whoever made the archive, even when the
 * worker runs as root. Returns how many entries were written.
 */
export async function unpackArchive(file: string, name: string, directory: string): Promise<number> {
  const kind = archiveKind(name);
  if (kind === null) throw new Error(`cannot unpack "${name}": not a .tar, .tar.gz, .tgz or .zip`);
  await mkdir(directory, { recursive: true });
  if (kind === 'zip') return unzip(file, directory);
  let entries = 0;
  await extract({
    file,
    cwd: directory,
    gzip: kind === 'tar.gz',
    preserveOwner: false,
    strict: true,
    onReadEntry: () => {
      entries += 1;
    },
  });
  return entries;
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
          mkdir(target, { recursive: true }).then(() => zip.readEntry(), fail);
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
          mkdir(dirname(target), { recursive: true })
            .then(() => checkWritableInside(directory, target, entry.fileName))
            .then(() => pipeline(stream, createWriteStream(target, { mode: permissions })))
            .then(() => zip.readEntry(), fail);
        });
      });
      zip.readEntry();
    });
  });
}

/**
 * The directory may already hold links (a checked-out tree can): an entry must not be written
 * through one to somewhere outside it. A link where the file itself goes is replaced, not followed.
 */
async function checkWritableInside(directory: string, target: string, entryName: string): Promise<void> {
  const root = await realpath(directory);
  const parent = await realpath(dirname(target));
  if (parent !== root && !parent.startsWith(root + sep)) {
    throw new Error(`refusing to unpack "${entryName}": its directory leads outside ${directory} through a link`);
  }
  const existing = await lstat(target).catch(() => null);
  if (existing?.isSymbolicLink()) await unlink(target);
}

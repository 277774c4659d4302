import { mkdir } from 'node:fs/promises';
import { archiveKind } from '@switchyard/protocol';
import { extract } from 'tar';

/**
 * Extracts a .tar, .tar.gz or .tgz into `directory`. Entries can't land outside it (absolute
 * paths and `..` are refused by tar), and files belong to the worker's user, not to whoever
 * made the archive, even when the worker runs as root. Returns how many entries were written.
 */
export async function unpackArchive(file: string, name: string, directory: string): Promise<number> {
  const kind = archiveKind(name);
  if (kind === null) throw new Error(`cannot unpack "${name}": not a .tar, .tar.gz or .tgz`);
  await mkdir(directory, { recursive: true });
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

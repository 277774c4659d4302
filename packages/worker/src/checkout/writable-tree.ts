import { chmod, lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { VcsCommandError } from './vcs-command.ts';

/**
 * Whether git or hg could not remove or write something in a tree for want of permission: what
 * a job that made directories read-only (Go's module cache is, and `chmod -R a-w` does it too)
 * leaves for a worker that does not run as root.
 */
export function refusedForPermission(error: unknown): boolean {
  return error instanceof VcsCommandError && /permission denied|cannot be removed/i.test(error.stderr);
}

/**
 * Gives the owner read, write and search permission on every directory below `root` (links are
 * not followed), so that what is in them can be deleted. Directories of another user are left
 * as they are: only root could change them.
 */
export async function makeDirectoriesWritable(root: string): Promise<void> {
  const info = await lstat(root).catch(() => null);
  if (!info?.isDirectory()) return;
  if ((info.mode & 0o700) !== 0o700) await chmod(root, info.mode | 0o700).catch(() => {});
  const entries = await readdir(root, { withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    if (entry.isDirectory()) await makeDirectoriesWritable(join(root, entry.name));
  }
}

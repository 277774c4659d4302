import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CliError } from '../errors.ts';

/** Marks a directory as the demo's own, so a re-run may delete it without deleting anything else. */
const MARKER = '.switchyard-demo';

/**
 * Makes `dir` an empty demo directory, deleting a previous demo there. Returns whether one was
 * deleted. Refuses a non-empty directory the demo did not create.
 */
export async function prepareDemoDirectory(dir: string): Promise<boolean> {
  const entries = await readdir(dir).catch((error: NodeJS.ErrnoException): string[] => {
    if (error.code === 'ENOENT') return [];
    throw error;
  });
  if (entries.length > 0 && !entries.includes(MARKER)) {
    throw new CliError(
      `${dir} is not empty and was not made by \`switchyard demo\`: remove it or choose another --dir`,
    );
  }
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, MARKER), 'Made by `switchyard demo`, which deletes and recreates this directory.\n');
  return entries.length > 0;
}

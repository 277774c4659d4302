import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';

function jobsRoot(workDir: string): string {
  return join(workDir, 'jobs');
}

/** `<workDir>/jobs/<jobId>-<attemptNumber>`, emptied: every attempt starts from a clean slate. */
export async function prepareJobDirectory(workDir: string, jobId: number, attemptNumber: number): Promise<string> {
  const dir = join(jobsRoot(workDir), `${jobId}-${attemptNumber}`);
  await rm(dir, { recursive: true, force: true, maxRetries: 3 });
  await mkdir(dir, { recursive: true });
  return dir;
}

/**
 * Removes every job directory except `keep`. Run after each attempt, this leaves just the most
 * recent one on disk for debugging, so disk use stays bounded however many jobs the worker runs.
 * Returns the directories it could not remove, with why.
 */
export async function pruneJobDirectories(workDir: string, keep: string): Promise<{ dir: string; error: string }[]> {
  const root = jobsRoot(workDir);
  const entries = await readdir(root).catch(() => []);
  const failures: { dir: string; error: string }[] = [];
  for (const entry of entries) {
    const dir = join(root, entry);
    if (dir === keep) continue;
    try {
      await rm(dir, { recursive: true, force: true, maxRetries: 3 });
    } catch (error) {
      failures.push({ dir, error: (error as Error).message });
    }
  }
  return failures;
}

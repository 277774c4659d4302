import { readFileSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { JobSpec, WarmCacheReport } from '@switchyard/protocol';

/** More than a worker's disk holds warm in practice; the oldest fall off. */
const REMEMBERED = 20;

/**
 * What this worker's caches hold: the builders and branches it recently succeeded on, newest
 * first. Reported with every claim so the coordinator can send it the work it is warm for.
 * Kept in the work directory beside the caches themselves, so a restarted worker still knows.
 */
export class WarmCaches {
  private readonly file: string;
  private entries: WarmCacheReport[];

  constructor(workDir: string) {
    this.file = join(workDir, 'warm-caches.json');
    this.entries = readEntries(this.file);
  }

  list(): WarmCacheReport[] {
    return this.entries;
  }

  async succeeded(job: Pick<JobSpec, 'repo' | 'builder' | 'branch'>, at: Date): Promise<void> {
    const entry = { repo: job.repo.name, builder: job.builder, branch: job.branch, at: at.toISOString() };
    const others = this.entries.filter(
      (e) => e.repo !== entry.repo || e.builder !== entry.builder || e.branch !== entry.branch,
    );
    this.entries = [entry, ...others].slice(0, REMEMBERED);
    await mkdir(join(this.file, '..'), { recursive: true });
    const temporary = `${this.file}.tmp`;
    await writeFile(temporary, JSON.stringify(this.entries));
    await rename(temporary, this.file);
  }
}

function readEntries(file: string): WarmCacheReport[] {
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    return Array.isArray(parsed) ? (parsed as WarmCacheReport[]).slice(0, REMEMBERED) : [];
  } catch {
    // Missing or unreadable: the worker simply reports nothing warm until its next success.
    return [];
  }
}

import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm, stat, statfs, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { acquireLock, type HeldLock, type LockOwner } from '../file-lock.ts';

export interface CachedTool {
  digest: string;
  size: number;
  /** Last used: every hit touches the file. */
  mtimeMs: number;
}

export interface PurgeResult {
  removed: number;
  freedBytes: number;
}

const TEMP_DIR = '.tmp';
const LOCK_DIR = '.locks';
const SHA512_HEX = /^[0-9a-f]{128}$/;

/**
 * tooltool's local cache: a flat directory of files named by their sha512, mode 0700, where a
 * file's mtime is when it was last used. Unlike tooltool's, it is bounded (the least recently
 * used files go first) and safe to share between processes: a download takes the digest's lock,
 * so concurrent fetchers of one file download it once. Files are written in `.tmp` and renamed
 * in, so the cache only ever holds whole files (whether they are the right ones is checked each
 * time one is copied out).
 */
export class ToolCache {
  constructor(
    readonly dir: string,
    readonly maxBytes: number,
  ) {}

  async open(): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    await mkdir(join(this.dir, TEMP_DIR), { recursive: true, mode: 0o700 });
    await mkdir(join(this.dir, LOCK_DIR), { recursive: true, mode: 0o700 });
  }

  path(digest: string): string {
    return join(this.dir, digest);
  }

  /** The cached file's path, touched so it counts as just used; null when it isn't cached. */
  async lookup(digest: string): Promise<string | null> {
    const path = this.path(digest);
    const now = new Date();
    try {
      await utimes(path, now, now);
      return path;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  }

  /**
   * Takes the digest's lock, which whoever downloads that file into the cache holds. A lock
   * broken from a dead holder leaves its half-written temporary files behind: they are deleted.
   */
  async lock(digest: string, options: { onWait?: (owner: LockOwner | null) => void; signal?: AbortSignal }) {
    const lock: HeldLock = await acquireLock(join(this.dir, LOCK_DIR, digest), {
      purpose: `fetching tool ${digest.slice(0, 12)}`,
      ...options,
    });
    if (lock.brokeStaleLock) await this.removeTemps(digest);
    return lock;
  }

  /** A new temporary path for the digest's download, in the cache's filesystem. */
  tempPath(digest: string): string {
    return join(this.dir, TEMP_DIR, `${digest}.${randomBytes(6).toString('hex')}`);
  }

  /** Moves a verified download into the cache, then evicts down to `maxBytes` (never `digest` itself). */
  async insert(digest: string, verifiedFile: string): Promise<string> {
    const path = this.path(digest);
    await rename(verifiedFile, path);
    const now = new Date();
    await utimes(path, now, now);
    await this.evict(this.maxBytes, digest);
    return path;
  }

  async remove(digest: string): Promise<void> {
    await rm(this.path(digest), { force: true });
  }

  /** The cached files, least recently used first. */
  async list(): Promise<CachedTool[]> {
    const names = await readdir(this.dir).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return [];
      throw error;
    });
    const tools: CachedTool[] = [];
    for (const name of names) {
      if (!SHA512_HEX.test(name)) continue;
      // Gone between the listing and here: another process evicted it.
      const info = await stat(join(this.dir, name)).catch(() => null);
      if (info?.isFile()) tools.push({ digest: name, size: info.size, mtimeMs: info.mtimeMs });
    }
    return tools.sort((a, b) => a.mtimeMs - b.mtimeMs);
  }

  /** Removes the least recently used files until at most `maxBytes` are cached. */
  async evict(maxBytes: number, keep?: string): Promise<PurgeResult> {
    const tools = await this.list();
    let total = tools.reduce((sum, tool) => sum + tool.size, 0);
    const result: PurgeResult = { removed: 0, freedBytes: 0 };
    for (const tool of tools) {
      if (total <= maxBytes) break;
      if (tool.digest === keep) continue;
      await this.remove(tool.digest);
      total -= tool.size;
      result.removed += 1;
      result.freedBytes += tool.size;
    }
    return result;
  }

  /**
   * tooltool's `purge -s`: removes the least recently used files until `keepFreeBytes` are free
   * on the cache's filesystem; 0 empties the cache. Temporary files no download holds a lock
   * for go too.
   */
  async purge(keepFreeBytes: number): Promise<PurgeResult> {
    const result: PurgeResult = { removed: 0, freedBytes: 0 };
    for (const tool of await this.list()) {
      if (keepFreeBytes > 0 && (await this.freeBytes()) >= keepFreeBytes) break;
      await this.remove(tool.digest);
      result.removed += 1;
      result.freedBytes += tool.size;
    }
    const locked = new Set(await readdir(join(this.dir, LOCK_DIR)).catch(() => [] as string[]));
    for (const temp of await readdir(join(this.dir, TEMP_DIR)).catch(() => [] as string[])) {
      if (!locked.has(temp.split('.')[0] ?? '')) await rm(join(this.dir, TEMP_DIR, temp), { force: true });
    }
    return result;
  }

  private async freeBytes(): Promise<number> {
    const info = await statfs(this.dir);
    return info.bavail * info.bsize;
  }

  private async removeTemps(digest: string): Promise<void> {
    const temps = await readdir(join(this.dir, TEMP_DIR)).catch(() => [] as string[]);
    for (const temp of temps) {
      if (temp.startsWith(`${digest}.`)) await rm(join(this.dir, TEMP_DIR, temp), { force: true });
    }
  }
}

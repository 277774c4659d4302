/**
 * @module
 * The signed-file cache: content-addressed, bounded, on disk.
 *
 * Invariants:
 * - An entry is one file, `entries/<cache key>.<sha256 of its bytes>`, written under a temporary
 *   name and renamed into place, so a crash leaves either the whole entry or none of it.
 * - Nothing is served without its bytes matching the digest in its name; an entry that does not
 *   (a disk error, someone editing the directory) is deleted and counts as a miss.
 * - The total size stays under `maxBytes` by evicting the least recently used entries. Use is
 *   recorded in the files' mtimes, so the order survives a restart.
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const ENTRY_NAME = /^([0-9a-f]{64})\.([0-9a-f]{64})$/;

export interface CacheEntry {
  key: string;
  sha256: string;
  size: number;
}

export interface CacheStats {
  entries: number;
  bytes: number;
}

export class SignedCache {
  /** In least-recently-used-first order: a Map iterates in insertion order, and use re-inserts. */
  private readonly entries = new Map<string, CacheEntry>();
  private readonly keysByOutput = new Map<string, string>();
  /** Entries whose bytes were checked since this process opened the cache (written ones included). */
  private readonly verified = new WeakSet<CacheEntry>();
  private bytes = 0;

  private constructor(
    private readonly dir: string,
    private readonly maxBytes: number,
  ) {}

  /** Opens (creating) the cache in `dir`, picking up what an earlier run left there. */
  static async open(dir: string, maxBytes: number): Promise<SignedCache> {
    const cache = new SignedCache(join(dir, 'entries'), maxBytes);
    await mkdir(cache.dir, { recursive: true });
    const found: (CacheEntry & { used: number })[] = [];
    for (const name of await readdir(cache.dir)) {
      const match = ENTRY_NAME.exec(name);
      const path = join(cache.dir, name);
      if (!match) {
        // A temporary file of a write that never finished.
        await rm(path, { force: true });
        continue;
      }
      const info = await stat(path);
      found.push({ key: match[1] as string, sha256: match[2] as string, size: info.size, used: info.mtimeMs });
    }
    found.sort((a, b) => a.used - b.used);
    for (const { used: _, ...entry } of found) cache.remember(entry);
    await cache.evict();
    return cache;
  }

  get stats(): CacheStats {
    return { entries: this.entries.size, bytes: this.bytes };
  }

  /** Whether `key` has an entry, without reading it. */
  peek(key: string): CacheEntry | null {
    return this.entries.get(key) ?? null;
  }

  /**
   * The entry for `key` if its bytes match their digest, for the lookup that precedes an upload:
   * read and checked the first time this process is asked for it, then trusted until a read for
   * serving it (which always checks) finds it damaged.
   */
  async find(key: string): Promise<CacheEntry | null> {
    const entry = this.entries.get(key);
    if (!entry) return null;
    if (this.verified.has(entry)) return entry;
    return (await this.get(key))?.entry ?? null;
  }

  /** The entry's bytes, checked against their digest; null on a miss or a damaged entry. */
  async get(key: string): Promise<{ entry: CacheEntry; bytes: Buffer } | null> {
    const entry = this.entries.get(key);
    if (!entry) return null;
    const path = this.pathOf(entry);
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch {
      this.forget(entry);
      return null;
    }
    if (createHash('sha256').update(bytes).digest('hex') !== entry.sha256) {
      this.forget(entry);
      await rm(path, { force: true });
      return null;
    }
    this.verified.add(entry);
    this.touch(entry);
    return { entry, bytes };
  }

  /** The bytes of an output by its own digest (GET /api/v1/outputs/<sha256>), checked likewise. */
  async getOutput(sha256: string): Promise<Buffer | null> {
    const key = this.keysByOutput.get(sha256);
    return key ? ((await this.get(key))?.bytes ?? null) : null;
  }

  async put(key: string, bytes: Buffer): Promise<CacheEntry> {
    const entry: CacheEntry = { key, sha256: createHash('sha256').update(bytes).digest('hex'), size: bytes.length };
    const existing = this.entries.get(key);
    if (existing?.sha256 === entry.sha256) return existing;
    const temporary = join(this.dir, `.${randomUUID()}.tmp`);
    await writeFile(temporary, bytes);
    await rename(temporary, this.pathOf(entry));
    if (existing) {
      this.forget(existing);
      await rm(this.pathOf(existing), { force: true });
    }
    this.remember(entry);
    this.verified.add(entry);
    await this.evict(key);
    return entry;
  }

  private pathOf(entry: CacheEntry): string {
    return join(this.dir, `${entry.key}.${entry.sha256}`);
  }

  private remember(entry: CacheEntry): void {
    this.entries.set(entry.key, entry);
    this.keysByOutput.set(entry.sha256, entry.key);
    this.bytes += entry.size;
  }

  private forget(entry: CacheEntry): void {
    if (this.entries.get(entry.key) !== entry) return;
    this.entries.delete(entry.key);
    if (this.keysByOutput.get(entry.sha256) === entry.key) this.keysByOutput.delete(entry.sha256);
    this.bytes -= entry.size;
  }

  private touch(entry: CacheEntry): void {
    this.entries.delete(entry.key);
    this.entries.set(entry.key, entry);
    const now = new Date();
    // The order in memory is what counts while running; the mtime only carries it over a restart.
    utimes(this.pathOf(entry), now, now).catch(() => {});
  }

  /** Drops least recently used entries until the cache fits, never `keep` (the entry just written). */
  private async evict(keep?: string): Promise<void> {
    for (const entry of this.entries.values()) {
      if (this.bytes <= this.maxBytes) return;
      if (entry.key === keep) continue;
      this.forget(entry);
      await rm(this.pathOf(entry), { force: true });
    }
  }
}

import { createHash, randomUUID } from 'node:crypto';
import { fstatSync, readSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, statfs, utimes, writeFile } from 'node:fs/promises';
import type { IncomingHttpHeaders } from 'node:http';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { type Digest, digestFile } from './digest.ts';
import { chooseEvictions } from './eviction.ts';
import { closeFd, openFd } from './fd-io.ts';
import { HotBodies } from './hot-bodies.ts';
import { receivedResponse, type StoredResponse } from './stored-response.ts';
import { type FieldLines, selectingValue } from './vary.ts';

/** What is kept next to each body, enough to serve and judge it after a restart. */
export interface EntryMeta {
  version: 2;
  id: string;
  /** `<upstream>/<path>`: the object's identity before Vary picks a variant. */
  key: string;
  upstream: string;
  /** Lower-case names of the request headers the response varies on. */
  vary: string[];
  response: StoredResponse;
  size: number;
  digest: Digest;
  /** Content-addressed: fresh for ever, checked against the digest in its URL. */
  immutable: boolean;
}

export interface CacheEntry {
  meta: EntryMeta;
  bodyPath: string;
  /** The body's size and mtime when its digest last matched, in this process; unset until then. */
  checked?: { size: number; mtimeMs: number };
}

/** A stored body held open for one response; `release()` when the response is done with it. */
export interface BodyLease {
  fd: number;
  /** The whole body, when it is small enough to be held in memory: send these rather than read `fd`. */
  bytes?: Buffer;
  release(): void;
}

interface OpenBody {
  fd: number;
  users: number;
  /** The entry is gone: close the descriptor once the last user releases it. */
  retired: boolean;
}

/** Bytes a fill in progress holds on disk, counted against the bound until it commits or fails. */
export interface Reservation {
  add(bytes: number): void;
  release(): void;
}

export interface EntryStoreOptions {
  dir: string;
  maxBytes: number;
  /** @see EvictionBudget.headroom */
  headroom: number;
  /** The bound on the bytes of small bodies also held in memory (0: none); see HotBodies. */
  memoryBytes: number;
  logger: Logger;
}

/** Touching an entry's metadata file records its use for the LRU order across restarts; once a minute is enough. */
const TOUCH_INTERVAL_MS = 60_000;
/** After ENOSPC, fills stay off for this long before the disk is tried again. */
const DISK_FULL_BACKOFF_MS = 10_000;
/** Free space a fill must leave on the file system, beyond its own bytes. */
const DISK_SAFETY_MARGIN = 64 * 2 ** 20;
/** Bodies kept open between hits, most recently used first; idle ones beyond this are closed. */
const OPEN_BODY_LIMIT = 256;
/**
 * The largest body held in memory: a few times a typical artifact or tool, so hits on them cost one
 * socket write; bigger bodies gain little over reading the page cache in 512 KiB chunks.
 */
const MEMORY_BODY_LIMIT = 4 * 2 ** 20;

/**
 * The entries on disk (`entries/<ab>/<id>.body` and `.json`) and their index in memory, in LRU
 * order. Bodies and metadata are written under `tmp/` and renamed into place, body first: a
 * metadata file always names a complete body, and a crash leaves nothing that a restart would serve.
 */
export class EntryStore {
  private readonly entries = new Map<string, CacheEntry>();
  /** Per key, the Vary of the variant stored last, and the id of its one variant when that Vary is empty. */
  private readonly varyByKey = new Map<string, { vary: string[]; soleId?: string }>();
  private readonly checking = new Map<string, Promise<boolean>>();
  private readonly lastTouched = new Map<string, number>();
  private readonly openBodies = new Map<CacheEntry, OpenBody>();
  private readonly hotBodies: HotBodies<CacheEntry>;
  private storedBytes = 0;
  private reservedBytes = 0;
  private diskFullUntil = 0;
  evictions = 0;

  constructor(private readonly options: EntryStoreOptions) {
    this.hotBodies = new HotBodies({ maxBytes: options.memoryBytes, maxBodyBytes: MEMORY_BODY_LIMIT });
  }

  get usedBytes(): number {
    return this.storedBytes + this.reservedBytes;
  }

  get entryCount(): number {
    return this.entries.size;
  }

  get maxBytes(): number {
    return this.options.maxBytes;
  }

  /** Files on their way in (and heap snapshots on their way out), emptied at open. */
  get tmpDir(): string {
    return join(this.options.dir, 'tmp');
  }

  private entryPath(id: string, extension: 'body' | 'json'): string {
    return join(this.options.dir, 'entries', id.slice(0, 2), `${id}.${extension}`);
  }

  /** Loads the index from disk, dropping leftovers of interrupted fills and entries without a complete body. */
  async open(): Promise<void> {
    await rm(this.tmpDir, { recursive: true, force: true });
    await mkdir(this.tmpDir, { recursive: true });
    const entriesDir = join(this.options.dir, 'entries');
    await mkdir(entriesDir, { recursive: true });
    const loaded: { entry: CacheEntry; usedAt: number }[] = [];
    for (const shard of await readdir(entriesDir)) {
      const files = new Set(await readdir(join(entriesDir, shard)));
      for (const file of files) {
        const id = file.replace(/\.(json|body)$/, '');
        if (file.endsWith('.body') && files.has(`${id}.json`)) continue;
        const metaPath = join(entriesDir, shard, file);
        const entry = file.endsWith('.json') ? await this.readEntry(id, metaPath) : undefined;
        if (!entry) {
          await rm(metaPath, { force: true });
          await rm(this.entryPath(id, 'body'), { force: true });
          continue;
        }
        loaded.push({ entry, usedAt: (await stat(metaPath)).mtimeMs });
      }
    }
    loaded.sort((a, b) => a.usedAt - b.usedAt);
    for (const { entry } of loaded) this.index(entry);
    this.options.logger.info({ entries: this.entries.size, bytes: this.storedBytes }, 'cache index loaded');
    await this.makeRoom(0);
  }

  private async readEntry(id: string, metaPath: string): Promise<CacheEntry | undefined> {
    try {
      const meta = fromEarlierVersion(JSON.parse(await readFile(metaPath, 'utf8')) as EntryMeta | EntryMetaVersion1);
      const bodyPath = this.entryPath(id, 'body');
      if (meta?.id !== id || (await stat(bodyPath)).size !== meta.size) return undefined;
      return { meta, bodyPath };
    } catch {
      return undefined;
    }
  }

  private index(entry: CacheEntry): void {
    this.entries.set(entry.meta.id, entry);
    this.varyByKey.set(entry.meta.key, { vary: entry.meta.vary });
    this.storedBytes += entry.meta.size;
  }

  /**
   * The id of the variant of `key` that a request with these field lines selects: its normalised
   * value of each field the response varies on, an absent field told apart from an empty one.
   */
  static variantId(key: string, vary: readonly string[], fieldLines: FieldLines): string {
    const hash = createHash('sha256').update(key);
    for (const name of vary) {
      const value = selectingValue(fieldLines[name]);
      hash.update(value === undefined ? `\0${name}` : `\0${name}:${value}`);
    }
    return hash.digest('hex');
  }

  /**
   * The entry a request would be served from, if any, by the Vary of the variant stored last. The
   * request's field lines are read only if that Vary names any: node builds them on first use.
   */
  find(key: string, request: { readonly headersDistinct: FieldLines }): CacheEntry | undefined {
    const variants = this.varyByKey.get(key);
    if (!variants) return undefined;
    if (variants.vary.length > 0) {
      return this.entries.get(EntryStore.variantId(key, variants.vary, request.headersDistinct));
    }
    variants.soleId ??= EntryStore.variantId(key, [], {});
    return this.entries.get(variants.soleId);
  }

  /** Bytes of bodies held in memory. */
  get memoryBytes(): number {
    return this.hotBodies.heldBytes;
  }

  /**
   * Holds an entry's body open for reading, or removes the entry if the body is damaged: wrong size,
   * or changed since its digest last matched (checked again then, once per change and per process).
   * Descriptors stay open between hits, so a hit costs one fstat and its reads. A small body comes
   * with its bytes, held in memory from its first hit until its file changes or it is let go.
   */
  async acquireBody(entry: CacheEntry): Promise<BodyLease | undefined> {
    const body = await this.openBody(entry);
    if (!body) return undefined;
    body.users += 1;
    const lease: BodyLease = { fd: body.fd, release: () => this.releaseBody(body) };
    const stamp = fstatSync(body.fd);
    const held = this.hotBodies.get(entry, stamp);
    if (held) {
      lease.bytes = held;
      return lease;
    }
    const { size, mtimeMs } = stamp;
    if (size === entry.meta.size) {
      const checked = entry.checked;
      const intact = checked?.size === size && checked.mtimeMs === mtimeMs;
      if (this.hotBodies.admits(size)) {
        const bytes = readIntactBody(body.fd, size, intact ? undefined : entry.meta.digest);
        if (bytes) {
          entry.checked = { size, mtimeMs };
          this.hotBodies.set(entry, stamp, bytes);
          lease.bytes = bytes;
          return lease;
        }
      } else if (intact || (await this.checkDigest(entry, size, mtimeMs))) return lease;
    }
    lease.release();
    this.options.logger.warn({ key: entry.meta.key, id: entry.meta.id }, 'cache entry damaged, removed');
    await this.remove(entry);
    return undefined;
  }

  private async openBody(entry: CacheEntry): Promise<OpenBody | undefined> {
    let body = this.openBodies.get(entry);
    if (!body) {
      const fd = await openFd(entry.bodyPath, 'r').catch(() => undefined);
      if (fd === undefined) {
        this.forget(entry);
        return undefined;
      }
      // Another hit may have opened it meanwhile; keep one descriptor.
      body = this.openBodies.get(entry);
      if (body) void closeFd(fd);
      else if (this.entries.get(entry.meta.id) !== entry) {
        void closeFd(fd);
        return undefined;
      } else body = { fd, users: 0, retired: false };
    }
    this.openBodies.delete(entry);
    this.openBodies.set(entry, body);
    this.closeIdleBodies();
    return body;
  }

  private releaseBody(body: OpenBody): void {
    body.users -= 1;
    if (body.retired && body.users === 0) void closeFd(body.fd);
  }

  private closeIdleBodies(): void {
    let excess = this.openBodies.size - OPEN_BODY_LIMIT;
    for (const [entry, body] of this.openBodies) {
      if (excess <= 0) return;
      if (body.users > 0) continue;
      this.openBodies.delete(entry);
      void closeFd(body.fd);
      excess -= 1;
    }
  }

  private checkDigest(entry: CacheEntry, size: number, mtimeMs: number): Promise<boolean> {
    const { id } = entry.meta;
    let check = this.checking.get(id);
    if (!check) {
      check = digestFile(entry.bodyPath, entry.meta.digest.algorithm)
        .then((digest) => {
          const intact = digest.hex === entry.meta.digest.hex;
          if (intact) entry.checked = { size, mtimeMs };
          return intact;
        })
        .catch(() => false)
        .finally(() => this.checking.delete(id));
      this.checking.set(id, check);
    }
    return check;
  }

  /** Records a use of the entry: in memory for eviction, and on disk (throttled) for the next start. */
  touch(entry: CacheEntry): void {
    const { id } = entry.meta;
    if (this.entries.get(id) !== entry) return;
    this.entries.delete(id);
    this.entries.set(id, entry);
    const now = Date.now();
    if (now - (this.lastTouched.get(id) ?? 0) < TOUCH_INTERVAL_MS) return;
    this.lastTouched.set(id, now);
    const seconds = now / 1000;
    utimes(this.entryPath(id, 'json'), seconds, seconds).catch(() => undefined);
  }

  /** A fresh path under `tmp/` for a body being filled. */
  tempPath(): string {
    return join(this.tmpDir, `${randomUUID()}.part`);
  }

  /** Moves a complete, checked body into place with its metadata; replaces the variant stored before. */
  async commit(meta: EntryMeta, tempBodyPath: string): Promise<CacheEntry> {
    const previous = this.entries.get(meta.id);
    if (previous) this.forget(previous);
    const bodyPath = this.entryPath(meta.id, 'body');
    await mkdir(join(bodyPath, '..'), { recursive: true });
    await rename(tempBodyPath, bodyPath);
    try {
      await this.writeMeta(meta);
    } catch (error) {
      await rm(bodyPath, { force: true });
      throw error;
    }
    const { mtimeMs } = await stat(bodyPath);
    const entry: CacheEntry = { meta, bodyPath, checked: { size: meta.size, mtimeMs } };
    this.index(entry);
    return entry;
  }

  /** Keeps an entry's body and takes the response a 304 revalidation freshened. */
  async freshen(entry: CacheEntry, response: StoredResponse): Promise<CacheEntry> {
    const meta: EntryMeta = { ...entry.meta, response };
    await this.writeMeta(meta);
    entry.meta = meta;
    return entry;
  }

  private async writeMeta(meta: EntryMeta): Promise<void> {
    const temp = join(this.tmpDir, `${randomUUID()}.json`);
    try {
      await writeFile(temp, JSON.stringify(meta));
      await rename(temp, this.entryPath(meta.id, 'json'));
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
  }

  /**
   * Removes every variant stored for `key` (an invalidation, RFC 9111 §4.4). A scan of the index:
   * unsafe requests through the cache are rare next to hits, which an index by key would slow.
   */
  async removeKey(key: string): Promise<void> {
    const variants = [...this.entries.values()].filter((entry) => entry.meta.key === key);
    this.varyByKey.delete(key);
    for (const entry of variants) await this.remove(entry);
  }

  async remove(entry: CacheEntry): Promise<void> {
    this.forget(entry);
    await rm(this.entryPath(entry.meta.id, 'json'), { force: true });
    await rm(entry.bodyPath, { force: true });
  }

  private forget(entry: CacheEntry): void {
    this.hotBodies.delete(entry);
    const body = this.openBodies.get(entry);
    if (body) {
      this.openBodies.delete(entry);
      body.retired = true;
      if (body.users === 0) void closeFd(body.fd);
    }
    if (this.entries.get(entry.meta.id) !== entry) return;
    this.entries.delete(entry.meta.id);
    this.lastTouched.delete(entry.meta.id);
    this.storedBytes -= entry.meta.size;
  }

  /** Whether one object of this size may be cached at all under the bound. */
  fits(bytes: number): boolean {
    return bytes <= this.options.maxBytes * (1 - this.options.headroom);
  }

  /** Evicts least recently used entries until `incomingBytes` more fit under the bound with headroom. */
  async makeRoom(incomingBytes: number): Promise<void> {
    const victims = chooseEvictions(
      [...this.entries.values()].map((entry) => ({ id: entry.meta.id, size: entry.meta.size })),
      { usedBytes: this.usedBytes, incomingBytes, maxBytes: this.options.maxBytes, headroom: this.options.headroom },
    );
    for (const id of victims) {
      const entry = this.entries.get(id);
      if (!entry) continue;
      this.evictions += 1;
      await this.remove(entry);
    }
  }

  reserve(): Reservation {
    let held = 0;
    return {
      add: (bytes) => {
        held += bytes;
        this.reservedBytes += bytes;
      },
      release: () => {
        this.reservedBytes -= held;
        held = 0;
      },
    };
  }

  /** Whether the file system can take `bytes` more now; false for a while after an ENOSPC. */
  async diskCanTake(bytes: number): Promise<boolean> {
    if (Date.now() < this.diskFullUntil) return false;
    const { bavail, bsize } = await statfs(this.options.dir);
    return bavail * bsize >= bytes + DISK_SAFETY_MARGIN;
  }

  markDiskFull(): void {
    this.diskFullUntil = Date.now() + DISK_FULL_BACKOFF_MS;
    this.options.logger.warn({ dir: this.options.dir }, 'cache disk full: passing requests through');
  }
}

/**
 * A small body read whole, on the event loop like every hit's reads (`readFdNow`), and, when its
 * file changed since its digest last matched, checked against `digest` (the check `digestFile`
 * makes of bigger bodies); undefined when it is short or does not match.
 */
function readIntactBody(fd: number, size: number, digest: Digest | undefined): Buffer | undefined {
  const bytes = Buffer.allocUnsafeSlow(size);
  let position = 0;
  try {
    while (position < size) {
      const read = readSync(fd, bytes, position, size - position, position);
      if (read === 0) return undefined;
      position += read;
    }
  } catch {
    return undefined;
  }
  if (digest && createHash(digest.algorithm).update(bytes).digest('hex') !== digest.hex) return undefined;
  return bytes;
}

/** The metadata of the first format: the response inside an http-cache-semantics policy object. */
interface EntryMetaVersion1 extends Omit<EntryMeta, 'version' | 'response'> {
  version: 1;
  policy: { st: number; resh: IncomingHttpHeaders; t: number };
}

/** Entries stored by an earlier version keep serving after an upgrade; unknown versions are dropped. */
function fromEarlierVersion(meta: EntryMeta | EntryMetaVersion1): EntryMeta | undefined {
  if (meta.version === 2) return meta;
  if (meta.version !== 1) return undefined;
  const { policy, ...rest } = meta;
  return { ...rest, version: 2, response: receivedResponse(policy.st, policy.resh, {}, policy.t, policy.t) };
}

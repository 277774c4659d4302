import { LRUCache } from 'lru-cache';

/** A body file's size and modification time: a body held in memory is good only while they are unchanged. */
export interface FileStamp {
  size: number;
  mtimeMs: number;
}

export interface HotBodiesOptions {
  /** The bound on the bytes held, over all bodies; 0 holds nothing. */
  maxBytes: number;
  /** The largest body held. */
  maxBodyBytes: number;
}

interface HeldBody {
  bytes: Buffer;
  stamp: FileStamp;
}

/**
 * Copies of small, often-served stored bodies in memory, least recently used dropped first, so a hit
 * on one is a single socket write instead of file reads. Keyed by the stored entry object itself: an
 * entry replaced by a new answer is a new object, so its old bytes can never be found for it. A copy
 * is returned only while the body file's stamp is the one it was read at.
 */
export class HotBodies<Entry extends object> {
  private readonly held: LRUCache<Entry, HeldBody> | undefined;
  readonly maxBodyBytes: number;

  constructor(options: HotBodiesOptions) {
    this.maxBodyBytes = Math.min(options.maxBodyBytes, options.maxBytes);
    this.held =
      options.maxBytes > 0
        ? new LRUCache<Entry, HeldBody>({
            maxSize: options.maxBytes,
            maxEntrySize: this.maxBodyBytes,
            // lru-cache refuses a size of 0; an empty body still takes a place.
            sizeCalculation: (body) => Math.max(1, body.bytes.length),
          })
        : undefined;
  }

  /** Whether a body of this many bytes would be held. */
  admits(size: number): boolean {
    return this.held !== undefined && size <= this.maxBodyBytes;
  }

  /** The bytes held for `entry` if its file still has `stamp`; a copy of another stamp is dropped. */
  get(entry: Entry, stamp: FileStamp): Buffer | undefined {
    const body = this.held?.get(entry);
    if (!body) return undefined;
    if (body.stamp.size === stamp.size && body.stamp.mtimeMs === stamp.mtimeMs) return body.bytes;
    this.held?.delete(entry);
    return undefined;
  }

  /** Holds `bytes`, read from `entry`'s file at `stamp` and known to match its digest. */
  set(entry: Entry, stamp: FileStamp, bytes: Buffer): void {
    if (this.admits(bytes.length))
      this.held?.set(entry, { bytes, stamp: { size: stamp.size, mtimeMs: stamp.mtimeMs } });
  }

  delete(entry: Entry): void {
    this.held?.delete(entry);
  }

  get heldBytes(): number {
    return this.held?.calculatedSize ?? 0;
  }

  get count(): number {
    return this.held?.size ?? 0;
  }
}

import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import type { Logger } from 'pino';
import { isStorable, type UpstreamFailure } from './cache-policy.ts';
import type { ContentAddress } from './content-address.ts';
import { type CacheEntry, EntryStore } from './entry-store.ts';
import { closeFd, openFd, readFd, writeFd } from './fd-io.ts';
import { freshened, headersToServe, receivedResponse, type StoredResponse } from './stored-response.ts';
import type { UpstreamClient } from './upstream-client.ts';
import { conditionalHeaders, notModifiedSelects } from './validators.ts';
import { type FieldLines, varyNames } from './vary.ts';

/** What the origin's answer made of a fill, known once its headers arrive. */
export type FillOutcome =
  /** A storable answer: its body is being written to disk and can be read from the fill as it arrives. */
  | { kind: 'body'; status: number; headers: OutgoingHttpHeaders; size: number | undefined; vary: string[] }
  /** A 304 to a revalidation: the stored entry holds, freshened by the 304's header fields. */
  | { kind: 'not-modified'; entry: CacheEntry }
  /** An answer that may not be shared (private, no-store, not storable, too large, no disk): only the request that started the fill gets it. */
  | { kind: 'uncacheable'; response: IncomingMessage }
  | { kind: 'failed'; failure: UpstreamFailure; message: string; response?: IncomingMessage };

export interface FillRequest {
  key: string;
  upstream: string;
  target: URL;
  /** The headers sent to the origin (a revalidation adds the stored response's validators to them). */
  headers: IncomingHttpHeaders;
  /** The headers of the client request that started the fill, for the storing rules. */
  clientHeaders: IncomingHttpHeaders;
  /** The same request's field lines, for the variant its answer is stored as. */
  clientFieldLines: FieldLines;
  contentAddress?: ContentAddress;
  /** The stored entry being revalidated, if any. */
  previous?: CacheEntry;
}

export interface FillContext {
  store: EntryStore;
  client: UpstreamClient;
  logger: Logger;
  countUpstreamBytes(bytes: number): void;
}

/** One read of a fill: positions are tracked so bytes held in memory can be let go once every reader has them. */
export interface FillReader {
  /**
   * Reads up to `length` bytes at `position` into `buffer`, waiting until they have arrived; resolves
   * with 0 at the end of a complete body, rejects if the fill failed.
   */
  readInto(buffer: Buffer, length: number, position: number): Promise<number>;
  detach(): void;
}
/**
 * Readers are woken once this many new bytes have arrived, or after `WAKE_DELAY_MS`, whichever comes
 * first: a hundred readers then make one large read each instead of one per 64 KiB socket chunk.
 */
const WAKE_BYTES = 256 * 1024;
const WAKE_DELAY_MS = 10;
/** Once the disk refuses bytes, the rest of the body goes to readers through memory, at most this much at a time. */
const MEMORY_WINDOW = 16 * 2 ** 20;

/**
 * One upstream fetch shared by every request for the same object: the body goes to a temporary file
 * while any number of readers stream it from there as it grows, each at its own pace, from any offset
 * already received. The last byte is held back until the body is complete and its digest checked, so
 * no reader ever gets what looks like a whole object from a fill that failed. A complete body is
 * committed to the store by rename.
 */
export class Fill {
  readonly outcome: Promise<FillOutcome>;
  /** Resolves when the fill is over, committed or not. */
  readonly settled: Promise<void>;
  /** Whether a new request may still join; false from the moment the bytes stop going to disk. */
  joinable = true;
  private state: 'waiting' | 'receiving' | 'complete' | 'failed' = 'waiting';
  private error: Error | undefined;
  private fd: number | undefined;
  private tempPath: string | undefined;
  private committed = false;
  private receivedBytes = 0;
  private diskBytes = 0;
  private readonly memory: Buffer[] = [];
  private memoryStart = 0;
  private memoryBytes = 0;
  private readonly readers = new Map<symbol, number>();
  private progress: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private announcedBytes = 0;
  private wakeTimer: NodeJS.Timeout | undefined;
  private roomInMemory: (() => void) | undefined;
  private resolveOutcome: (outcome: FillOutcome) => void = () => {};

  constructor(
    private readonly request: FillRequest,
    private readonly context: FillContext,
  ) {
    this.outcome = new Promise((resolve) => {
      this.resolveOutcome = resolve;
    });
    this.settled = this.run().catch((error: Error) => this.fail(error));
  }

  /** The field lines of the request that started the fill, to check a joiner against the response's Vary. */
  get clientFieldLines(): FieldLines {
    return this.request.clientFieldLines;
  }

  attach(): FillReader {
    const id = Symbol('reader');
    this.readers.set(id, 0);
    return {
      readInto: (buffer, length, position) => this.readInto(id, buffer, length, position),
      detach: () => this.detach(id),
    };
  }

  private async run(): Promise<void> {
    const { request, context } = this;
    const { previous } = request;
    const conditions = previous ? conditionalHeaders(previous.meta.response) : {};
    const requestTime = Date.now();
    let response: IncomingMessage;
    try {
      response = await context.client.request({
        method: 'GET',
        target: request.target,
        headers: { ...request.headers, ...conditions },
      });
    } catch (error) {
      return this.endWithout({ kind: 'failed', failure: 'unreachable', message: (error as Error).message });
    }
    const responseTime = Date.now();
    const status = response.statusCode ?? 502;
    // A 5xx to a revalidation is the origin failing (RFC 9111 §4.3.3): the stored entry may stand in.
    if (status >= 500 && previous) {
      return this.endWithout({ kind: 'failed', failure: 'error-status', message: `answered ${status}`, response });
    }
    if (status === 304 && previous) {
      response.resume();
      const stored = previous.meta.response;
      if (!notModifiedSelects(stored, response.headers, conditions)) {
        return this.endWithout({
          kind: 'failed',
          failure: 'error-status',
          message: 'answered 304 for another version',
        });
      }
      const update = freshened(stored, response.headers, response.headersDistinct, requestTime, responseTime);
      const entry = await context.store.freshen(previous, update);
      return this.endWithout({ kind: 'not-modified', entry });
    }
    const stored = receivedResponse(status, response.headers, response.headersDistinct, requestTime, responseTime);
    const declaredSize =
      response.headers['content-length'] === undefined ? undefined : Number(response.headers['content-length']);
    const cacheable =
      isStorable(request.clientHeaders, stored) &&
      // A content-addressed body is checked against its digest, which only a 200's body can match.
      (request.contentAddress === undefined || status === 200) &&
      (declaredSize === undefined || context.store.fits(declaredSize)) &&
      (await context.store.diskCanTake(declaredSize ?? 0));
    if (!cacheable) {
      if (status >= 500) {
        return this.endWithout({ kind: 'failed', failure: 'error-status', message: `answered ${status}`, response });
      }
      return this.endWithout({ kind: 'uncacheable', response });
    }

    await context.store.makeRoom(declaredSize ?? 0);
    this.tempPath = context.store.tempPath();
    this.fd = await openFd(this.tempPath, 'w+');
    const vary = varyNames(response.headers.vary);
    this.state = 'receiving';
    this.resolveOutcome({
      kind: 'body',
      status,
      headers: headersToServe(stored, Date.now()),
      size: declaredSize,
      vary,
    });
    await this.receive(response, declaredSize, stored, vary);
  }

  private async receive(
    response: IncomingMessage,
    declaredSize: number | undefined,
    stored: StoredResponse,
    vary: string[],
  ): Promise<void> {
    const { request, context } = this;
    const hash = createHash(request.contentAddress?.algorithm ?? 'sha256');
    const reservation = context.store.reserve();
    try {
      for await (const chunk of response as AsyncIterable<Buffer>) {
        context.countUpstreamBytes(chunk.length);
        hash.update(chunk);
        if (this.joinable && !(await this.writeToDisk(chunk))) {
          this.joinable = false;
          this.memoryStart = this.diskBytes;
        }
        if (this.joinable) {
          reservation.add(chunk.length);
          this.diskBytes += chunk.length;
        } else {
          this.memory.push(chunk);
          this.memoryBytes += chunk.length;
        }
        this.receivedBytes += chunk.length;
        this.announce();
        if (!this.joinable) await this.memoryRoom(response);
      }
      if (!response.complete) throw new Error('the upstream closed the connection before the end of the body');
      if (declaredSize !== undefined && this.receivedBytes !== declaredSize) {
        throw new Error(`the upstream sent ${this.receivedBytes} bytes of ${declaredSize}`);
      }
      const hex = hash.digest('hex');
      if (request.contentAddress && hex !== request.contentAddress.digest) {
        throw new Error(
          `the body's ${request.contentAddress.algorithm} is ${hex}, not the ${request.contentAddress.digest} its URL names`,
        );
      }
      if (this.joinable && this.tempPath) await this.commit(hex, stored, vary);
      reservation.release();
      await context.store.makeRoom(0);
      this.joinable = false;
      this.state = 'complete';
      this.notify();
    } finally {
      reservation.release();
      this.closeIfUnused();
    }
  }

  /**
   * Stores the checked body. If that fails (the disk filled up between the body and its metadata),
   * the readers still get the whole body from the temporary file; only the cache goes without.
   */
  private async commit(hex: string, response: StoredResponse, vary: string[]): Promise<void> {
    const { request, context } = this;
    try {
      await context.store.commit(
        {
          version: 2,
          id: EntryStore.variantId(request.key, vary, request.clientFieldLines),
          key: request.key,
          upstream: request.upstream,
          vary,
          response,
          size: this.receivedBytes,
          digest: { algorithm: request.contentAddress?.algorithm ?? 'sha256', hex },
          immutable: request.contentAddress !== undefined,
        },
        this.tempPath as string,
      );
      this.committed = true;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOSPC' || code === 'EDQUOT') context.store.markDiskFull();
      context.logger.warn({ key: request.key, err: (error as Error).message }, 'could not store a complete body');
    }
  }

  /** Writes a chunk at the end of the temporary file; false when the cache cannot take it (disk full, object over the bound). */
  private async writeToDisk(chunk: Buffer): Promise<boolean> {
    if (!this.context.store.fits(this.receivedBytes + chunk.length)) return false;
    try {
      let written = 0;
      while (written < chunk.length) {
        const position = this.receivedBytes + written;
        written += await writeFd(this.fd as number, chunk, written, chunk.length - written, position);
      }
      return true;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOSPC' && code !== 'EDQUOT') throw error;
      this.context.store.markDiskFull();
      return false;
    }
  }

  /** Holds the upstream while the bytes kept in memory exceed the window; gives up when no reader is left. */
  private async memoryRoom(response: IncomingMessage): Promise<void> {
    while (this.memoryBytes > MEMORY_WINDOW) {
      if (this.readers.size === 0) {
        response.destroy();
        throw new Error('every reader left a fill that the disk could not take');
      }
      await new Promise<void>((resolve) => {
        this.roomInMemory = resolve;
      });
    }
  }

  private async readInto(id: symbol, buffer: Buffer, length: number, position: number): Promise<number> {
    this.readers.set(id, position);
    for (;;) {
      // The last byte waits for the end of the fill, its length and digest checked.
      const readable = this.state === 'complete' ? this.receivedBytes : this.receivedBytes - 1;
      if (position < readable) {
        const wanted = Math.min(length, readable - position);
        const bytes =
          position < this.diskBytes
            ? await readFd(this.fd as number, buffer, Math.min(wanted, this.diskBytes - position), position)
            : this.copyFromMemory(buffer, wanted, position);
        this.readers.set(id, position + bytes);
        this.releaseMemory();
        return bytes;
      }
      if (this.state === 'failed') throw this.error;
      if (this.state === 'complete') return 0;
      await this.nextProgress();
    }
  }

  private copyFromMemory(buffer: Buffer, length: number, position: number): number {
    let offset = this.memoryStart;
    let copied = 0;
    for (const chunk of this.memory) {
      const end = offset + chunk.length;
      if (position + copied < end) {
        copied += chunk.copy(
          buffer,
          copied,
          position + copied - offset,
          Math.min(chunk.length, position + length - offset),
        );
        if (copied === length) break;
      }
      offset = end;
    }
    if (copied === 0) throw new Error(`fill bytes at ${position} are no longer held`);
    return copied;
  }

  /** Lets go of the chunks in memory that every reader has passed. */
  private releaseMemory(): void {
    if (this.memory.length === 0) return;
    const slowest = Math.min(...this.readers.values());
    while (this.memory.length > 0 && this.memoryStart + (this.memory[0] as Buffer).length <= slowest) {
      const chunk = this.memory.shift() as Buffer;
      this.memoryStart += chunk.length;
      this.memoryBytes -= chunk.length;
    }
    if (this.memoryBytes <= MEMORY_WINDOW) {
      this.roomInMemory?.();
      this.roomInMemory = undefined;
    }
  }

  private detach(id: symbol): void {
    if (!this.readers.delete(id)) return;
    this.releaseMemory();
    if (this.readers.size === 0) {
      this.roomInMemory?.();
      this.roomInMemory = undefined;
    }
    this.closeIfUnused();
  }

  private nextProgress(): Promise<void> {
    this.progress ??= new Promise((resolve) => {
      this.wake = resolve;
    });
    return this.progress;
  }

  /** Wakes the readers for new bytes, in batches (see WAKE_BYTES). */
  private announce(): void {
    if (this.receivedBytes - this.announcedBytes >= WAKE_BYTES) this.notify();
    else this.wakeTimer ??= setTimeout(() => this.notify(), WAKE_DELAY_MS).unref();
  }

  private notify(): void {
    clearTimeout(this.wakeTimer);
    this.wakeTimer = undefined;
    this.announcedBytes = this.receivedBytes;
    const wake = this.wake;
    this.progress = undefined;
    this.wake = undefined;
    wake?.();
  }

  private endWithout(outcome: FillOutcome): void {
    this.joinable = false;
    this.state = outcome.kind === 'failed' ? 'failed' : 'complete';
    this.error = outcome.kind === 'failed' ? new Error(outcome.message) : undefined;
    this.resolveOutcome(outcome);
    this.notify();
  }

  private fail(error: Error): void {
    this.context.logger.warn({ key: this.request.key, err: error.message }, 'fill failed');
    this.joinable = false;
    this.state = 'failed';
    this.error = error;
    this.resolveOutcome({ kind: 'failed', failure: 'unreachable', message: error.message });
    this.notify();
    this.closeIfUnused();
  }

  private closeIfUnused(): void {
    if ((this.state !== 'complete' && this.state !== 'failed') || this.readers.size > 0 || this.fd === undefined)
      return;
    const fd = this.fd;
    const tempPath = this.tempPath;
    this.fd = undefined;
    void closeFd(fd).finally(() => {
      if (!this.committed && tempPath) return rm(tempPath, { force: true });
    });
  }
}

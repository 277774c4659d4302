import type { ServerResponse } from 'node:http';
import { setImmediate } from 'node:timers/promises';

/** Reads up to `length` bytes at `position` into `buffer`; resolves with how many (0: nothing more). */
export type ReadAt = (buffer: Buffer, length: number, position: number) => Promise<number>;

const CHUNK_SIZE = 512 * 1024;
/** Buffers kept for reuse: enough for every chunk in flight on a few dozen busy connections. */
const POOL_LIMIT = 128;
const pool: Buffer[] = [];

function takeBuffer(): Buffer {
  return pool.pop() ?? Buffer.allocUnsafeSlow(CHUNK_SIZE);
}

function giveBack(buffer: Buffer): void {
  if (pool.length < POOL_LIMIT) pool.push(buffer);
}

export class ShortBodyError extends Error {
  override readonly name = 'ShortBodyError';
}

/**
 * Sends bytes `start`..`end` (inclusive; undefined: until `readAt` has no more) to a response whose
 * headers are written, then ends it. Each chunk is read into a pooled buffer that returns to the pool
 * once the socket has taken it, and the next read runs while the previous chunk is being written:
 * serving a hit allocates nothing per request, and disk reads overlap network writes. Rejects (and
 * leaves the response unended) if the bytes stop short of `end`, or the client leaves.
 */
export async function pumpBody(
  res: ServerResponse,
  readAt: ReadAt,
  start: number,
  end: number | undefined,
  countBytes: (bytes: number) => void,
): Promise<void> {
  let position = start;
  const lengthAt = (at: number) => (end === undefined ? CHUNK_SIZE : Math.min(CHUNK_SIZE, end - at + 1));
  let buffer = takeBuffer();
  let bytes = await readAt(buffer, lengthAt(position), position);
  for (;;) {
    if (bytes === 0) {
      giveBack(buffer);
      if (end !== undefined && position <= end)
        throw new ShortBodyError(`the body ended at ${position} of ${end + 1} bytes`);
      res.end();
      return;
    }
    position += bytes;
    countBytes(bytes);
    const written = buffer;
    const more = end === undefined || position <= end;
    let next: Promise<number> | undefined;
    if (more) {
      buffer = takeBuffer();
      next = readAt(buffer, lengthAt(position), position);
      // Handled below; if the client leaves first, the read's outcome no longer matters.
      next.catch(() => undefined);
    }
    const flowing = res.write(written.subarray(0, bytes), () => giveBack(written));
    // A socket that takes every chunk at once and a read answered from the page cache would
    // otherwise keep this loop in microtasks for a whole 100 MiB body, every other connection
    // waiting (bench/proxy.ts saw the event loop stall 150-350 ms): take turns at each chunk.
    if (flowing) await setImmediate();
    else await drained(res);
    if (!next) {
      res.end();
      return;
    }
    bytes = await next;
  }
}

function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve, reject) => {
    if (res.destroyed) return reject(new Error('the client left'));
    const onDrain = () => {
      stop();
      resolve();
    };
    const onClose = () => {
      stop();
      reject(new Error('the client left'));
    };
    const stop = () => {
      res.off('drain', onDrain);
      res.off('close', onClose);
    };
    res.on('drain', onDrain);
    res.on('close', onClose);
  });
}

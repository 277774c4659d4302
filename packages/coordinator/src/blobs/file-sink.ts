import { fdatasync, writev } from 'node:fs';
import type { Readable } from 'node:stream';
import { ApiError } from '@switchyard/protocol';
import type { BodyTally } from './hashing-counter.ts';

/**
 * Bytes gathered while a write is in flight before the body is paused. Small, so that a batch is
 * still in the CPU's cache when the pool's thread copies it into the page cache: 1 GiB uploads
 * cost 2.8-3.0 CPU-seconds with 256 KiB against 3.0-3.3 with 64 KiB or 1 MiB and 3.3-3.8 with
 * 4 MiB (interleaved runs, docs/BENCHMARKS.md).
 */
const MAX_PENDING_BYTES = 256 * 1024;
/** libuv splits longer vectors itself; a slow client's many small chunks go out in several writes. */
const MAX_PENDING_CHUNKS = 1024;
const FLUSH_EVERY_BYTES = 64 * 1024 * 1024;

/**
 * Streams a body into an open file while it is tallied, and resolves once every byte is written
 * and fdatasynced. Each chunk is hashed as it arrives and queued; the chunks that arrive while a
 * write runs in libuv's pool go out together in one `writev`, so hashing (on this thread) and
 * writing (on the pool's) overlap without copying. Every 64 MiB the file is flushed in the
 * background, which never holds up the body, so the final fdatasync has little left to do.
 * On a refusal or a failure it waits for the pool to be done with the descriptor before it
 * rejects, so the caller may close it. The body is left paused, never destroyed.
 */
export function streamToFile(
  body: Readable,
  fd: number,
  tally: BodyTally,
  onBytes: (count: number) => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let writing = false;
    let written = 0;
    let flushedAt = 0;
    let flushing = false;
    let ended = false;
    let failure: Error | null = null;

    const busy = () => writing || flushing;
    const finish = () => {
      if (busy()) return;
      stop();
      if (failure) {
        reject(failure);
        return;
      }
      // The last flush: nothing is acknowledged until its bytes are on disk.
      flushing = true;
      fdatasync(fd, (error) => {
        flushing = false;
        if (error) reject(error);
        else resolve();
      });
    };
    const fail = (error: Error) => {
      if (failure) return;
      failure = error;
      stop();
      finish();
    };
    const flushInBackground = () => {
      if (flushing || failure || written - flushedAt < FLUSH_EVERY_BYTES) return;
      flushedAt = written;
      flushing = true;
      fdatasync(fd, (error) => {
        flushing = false;
        if (error) fail(error);
        else if (failure || (ended && !writing && pending.length === 0)) finish();
      });
    };
    const writePending = () => {
      const chunks = pending;
      const bytes = pendingBytes;
      pending = [];
      pendingBytes = 0;
      writing = true;
      writev(fd, chunks, (error) => {
        writing = false;
        if (error) {
          fail(error);
          return;
        }
        written += bytes;
        if (failure) {
          finish();
          return;
        }
        flushInBackground();
        if (pending.length > 0) writePending();
        else if (ended) finish();
        body.resume();
      });
    };

    const onData = (chunk: Buffer) => {
      const refusal: ApiError | null = tally.take(chunk);
      if (refusal) {
        fail(refusal);
        return;
      }
      onBytes(chunk.length);
      pending.push(chunk);
      pendingBytes += chunk.length;
      if (!writing) writePending();
      else if (pendingBytes >= MAX_PENDING_BYTES || pending.length >= MAX_PENDING_CHUNKS) body.pause();
    };
    const onEnd = () => {
      ended = true;
      body.off('data', onData);
      if (!writing && pending.length > 0) writePending();
      else if (!writing) finish();
    };
    const onClose = () => {
      const refusal = tally.cutOff(body, ended);
      if (refusal) fail(refusal);
    };
    function stop() {
      body.pause();
      body.off('data', onData);
      body.off('end', onEnd);
      body.off('close', onClose);
      body.off('error', onClose);
    }

    body.on('data', onData);
    body.once('end', onEnd);
    body.once('close', onClose);
    body.once('error', onClose);
    // The caller opened the file first: a client may have gone away meanwhile, and its body
    // will emit nothing more.
    if (body.destroyed) {
      fail(tally.cutOff(body, false) ?? new ApiError('invalid-request', 'the upload was closed before it was read'));
    }
  });
}

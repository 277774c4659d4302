import { createHash, type Hash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { Transform } from 'node:stream';
import { ApiError } from '@switchyard/protocol';

const STREAM_BUFFER_BYTES = 1024 * 1024;

/**
 * The pass every received body goes through, whichever store keeps it: counts the bytes,
 * refuses them past the limit with a 413, and hashes them (sha256, and sha512 when asked).
 * `beforeEnd` runs before the stream ends, so a store can finish its own work (a flush) first.
 */
export class HashingCounter extends Transform {
  /** Not `size`: the SDK's Upload reads a body's `size` as its length. */
  counted = 0;
  private readonly hash256: Hash = createHash('sha256');
  private readonly hash512: Hash | null;

  constructor(
    private readonly maxBytes: number,
    private readonly onBytes: (count: number) => void,
    sha512: boolean,
    private readonly beforeEnd: () => Promise<void> = async () => {},
  ) {
    super({ highWaterMark: STREAM_BUFFER_BYTES });
    this.hash512 = sha512 ? createHash('sha512') : null;
  }

  override _transform(
    chunk: Buffer,
    _encoding: BufferEncoding,
    callback: (error?: Error | null, data?: Buffer) => void,
  ) {
    this.counted += chunk.length;
    if (this.counted > this.maxBytes) {
      callback(
        new ApiError('payload-too-large', `the artifact is over the limit of ${this.maxBytes} bytes`, {
          maxBytes: this.maxBytes,
        }),
      );
      return;
    }
    this.hash256.update(chunk);
    this.hash512?.update(chunk);
    this.onBytes(chunk.length);
    callback(null, chunk);
  }

  override _flush(callback: (error?: Error | null) => void) {
    this.beforeEnd().then(() => callback(), callback);
  }

  digests(): { sha256: string; sha512: string | null; size: number } {
    return { sha256: this.hash256.digest('hex'), sha512: this.hash512?.digest('hex') ?? null, size: this.counted };
  }

  /**
   * Pipes `body` in and fails this stream when the body closes before its end (a client that
   * went away). Returns the function that stops watching and unpipes, for when the work is over.
   */
  feedFrom(body: Readable): () => void {
    let ended = false;
    const onEnd = () => {
      ended = true;
    };
    // An HTTP request says `complete` once its last byte arrived, even if not yet read; a file
    // stream ends before it closes.
    const cutOff = () => {
      if (!ended && !(body as Readable & { complete?: boolean }).complete) {
        this.destroy(new ApiError('invalid-request', `the upload was cut off after ${this.counted} bytes`));
      }
    };
    body.once('end', onEnd);
    body.once('close', cutOff);
    body.once('error', cutOff);
    body.pipe(this);
    return () => {
      body.off('end', onEnd);
      body.off('close', cutOff);
      body.off('error', cutOff);
      body.unpipe(this);
    };
  }
}

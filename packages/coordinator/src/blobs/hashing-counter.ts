import { createHash, type Hash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { Transform } from 'node:stream';
import { ApiError } from '@switchyard/protocol';

const STREAM_BUFFER_BYTES = 1024 * 1024;

/**
 * What every received body goes through, whichever store keeps it: counts the bytes, refuses
 * them past the limit with a 413, and hashes them (sha256, and sha512 when asked).
 */
export class BodyTally {
  counted = 0;
  private readonly hash256: Hash = createHash('sha256');
  private readonly hash512: Hash | null;

  constructor(
    private readonly maxBytes: number,
    sha512: boolean,
  ) {
    this.hash512 = sha512 ? createHash('sha512') : null;
  }

  /** Counts and hashes a chunk; the refusal when it takes the body past the limit. */
  take(chunk: Buffer): ApiError | null {
    this.counted += chunk.length;
    if (this.counted > this.maxBytes) {
      return new ApiError('payload-too-large', `the artifact is over the limit of ${this.maxBytes} bytes`, {
        maxBytes: this.maxBytes,
      });
    }
    this.hash256.update(chunk);
    this.hash512?.update(chunk);
    return null;
  }

  digests(): { sha256: string; sha512: string | null; size: number } {
    return { sha256: this.hash256.digest('hex'), sha512: this.hash512?.digest('hex') ?? null, size: this.counted };
  }

  /** The refusal of a body that closed before its end, or null when it arrived whole. */
  cutOff(body: Readable, ended: boolean): ApiError | null {
    // An HTTP request says `complete` once its last byte arrived, even if not yet read; a file
    // stream ends before it closes.
    if (ended || (body as Readable & { complete?: boolean }).complete) return null;
    return new ApiError('invalid-request', `the upload was cut off after ${this.counted} bytes`);
  }
}

/** A `BodyTally` as a stream stage, for a store whose client takes a stream (the S3 SDK's Upload). */
export class HashingCounter extends Transform {
  private readonly tally: BodyTally;

  constructor(
    maxBytes: number,
    private readonly onBytes: (count: number) => void,
    sha512: boolean,
  ) {
    super({ highWaterMark: STREAM_BUFFER_BYTES });
    this.tally = new BodyTally(maxBytes, sha512);
  }

  /** Not `size`: the SDK's Upload reads a body's `size` as its length. */
  get counted(): number {
    return this.tally.counted;
  }

  override _transform(
    chunk: Buffer,
    _encoding: BufferEncoding,
    callback: (error?: Error | null, data?: Buffer) => void,
  ) {
    const refusal = this.tally.take(chunk);
    if (refusal) {
      callback(refusal);
      return;
    }
    this.onBytes(chunk.length);
    callback(null, chunk);
  }

  digests(): { sha256: string; sha512: string | null; size: number } {
    return this.tally.digests();
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
    const cutOff = () => {
      const refusal = this.tally.cutOff(body, ended);
      if (refusal) this.destroy(refusal);
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

import type { Readable } from 'node:stream';

/**
 * A body streamed into the store and hashed on the way, not yet a blob: `commit` makes it one
 * under its sha256, `discard` forgets it.
 */
export interface ReceivedBody {
  readonly sha256: string;
  /** Computed in the same pass when asked for: the tool store addresses content by sha512 too. */
  readonly sha512: string | null;
  readonly size: number;
  /** Where the store keeps the body until then: a temporary file, or a temporary object key. */
  readonly tempName: string;
}

/** A blob stored before some time, as the collector's walk finds it. */
export interface StoredDigest {
  sha256: string;
  /** Epoch ms. */
  storedAt: number;
}

/** Inclusive byte offsets, as in an HTTP Range. */
export interface ByteSpan {
  start: number;
  end: number;
}

/**
 * Content-addressed bytes: artifacts, tools and completed logs, each stored once under its sha256.
 * A blob is visible under its digest only once it is complete and correct; bodies that are
 * refused, cut off or fail on the way leave nothing behind. `LocalBlobStore` keeps them in a
 * directory (the embedded default); `S3BlobStore` in an S3-compatible bucket, shared by replicas.
 */
export interface BlobStore {
  /** For logs and metrics: `file:///…` or `s3://bucket/prefix`. */
  readonly location: string;

  /** Prepares the store at start, and clears what a crash left half-written. */
  init(): Promise<void>;

  /**
   * Streams a body into temporary storage while hashing it (sha256, and sha512 too when asked),
   * with bounded memory whatever its size. Past `maxBytes` it stops at once with a 413; a body
   * cut off before its end is an `invalid-request`; either way nothing stays. The source is
   * never destroyed here, so the caller can still answer on its connection.
   */
  receive(
    body: Readable,
    maxBytes: number,
    onBytes: (count: number) => void,
    options?: { sha512?: boolean },
  ): Promise<ReceivedBody>;

  /** Makes a received body visible as the blob of its sha256; the same bytes stored already are kept. */
  commit(received: ReceivedBody): Promise<void>;

  /** Forgets a received body that will not be committed. */
  discard(received: ReceivedBody): Promise<void>;

  /** Deletes a blob; a missing one is no error. */
  remove(sha256: string): Promise<void>;

  /** The blob's size, or null when it is missing. */
  size(sha256: string): Promise<number | null>;

  /** Every blob stored, whatever records name it: the collector looks for blobs no row names. */
  storedDigests(): AsyncIterable<StoredDigest>;

  /**
   * Stores a body (a compacted log, its line index) as a blob: `receive` and `commit` in one,
   * with no size limit. Resolves once the blob is visible.
   */
  put(body: Readable): Promise<{ sha256: string; size: number }>;

  /**
   * Reads a blob, or the inclusive span of it; fails with a `not-found` ApiError when it is
   * missing. The caller knows the size from its records and checks a span against it first.
   */
  open(sha256: string, span?: ByteSpan): Promise<Readable>;

  /**
   * Where a client may fetch the blob itself, for a GET answered with a redirect: a presigned
   * URL valid for a few minutes, or null when the coordinator serves the bytes (`open`).
   */
  downloadUrl(sha256: string, response: { contentType: string }): Promise<string | null>;
}

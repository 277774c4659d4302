import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  type S3Client,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { ApiError } from '@switchyard/protocol';
import { HashingCounter } from './hashing-counter.ts';
import type { BlobStore, ByteSpan, ReceivedBody, StoredDigest } from './port.ts';
import { copyPlan, type S3KeyLayout, type S3Location } from './s3-location.ts';
import { storeBody } from './store-body.ts';

const MiB = 1024 * 1024;
/** S3's limit for one CopyObject. */
const MAX_SINGLE_COPY_BYTES = 5 * 1024 * MiB;
/** Temporary objects and multipart uploads older than this at start were left by a crash, not by a live upload. */
const ABANDONED_AFTER_MS = 24 * 3600 * 1000;
/** How long a presigned download URL stays valid: enough to start a download, short enough not to be shared. */
const PRESIGNED_SECONDS = 300;

export interface S3BlobStoreOptions {
  client: S3Client;
  /**
   * Signs download URLs. Configured with `requestChecksumCalculation: 'WHEN_REQUIRED'`: since
   * SDK 3.729 the default bakes a checksum of an empty body into presigned URLs, which real S3
   * then holds the request to.
   */
  presigner: S3Client;
  location: S3Location;
  layout: S3KeyLayout;
  /** Answer downloads with a redirect to a presigned URL rather than streaming them through. */
  redirectDownloads: boolean;
  /** Bytes per part of a multipart upload (5 MiB is S3's minimum; 4 in flight per upload bound its memory). */
  partBytes?: number;
  /** Above this size a committed upload is copied in parts (S3 allows up to 5 GiB in one copy). */
  maxSingleCopyBytes?: number;
  copyPartBytes?: number;
  clock?: () => number;
}

/**
 * Blobs in an S3-compatible bucket, shared by every replica. An upload streams as a multipart
 * upload to `tmp/<time>-<uuid>` while it is hashed, with at most 4 parts in memory; commit copies it
 * to `sha256/<hex>` only if that key is absent (create-if-absent: a 412 means the same bytes are
 * there already) and deletes the temporary object, so a blob key always holds complete and
 * correct bytes. A failed upload aborts its multipart upload.
 */
export class S3BlobStore implements BlobStore {
  readonly location: string;
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly layout: S3KeyLayout;
  private readonly partBytes: number;
  private readonly maxSingleCopyBytes: number;
  private readonly copyPartBytes: number;
  private readonly clock: () => number;

  constructor(private readonly options: S3BlobStoreOptions) {
    this.client = options.client;
    this.bucket = options.location.bucket;
    this.layout = options.layout;
    this.location = `s3://${this.bucket}/${options.location.prefix}`;
    this.partBytes = options.partBytes ?? 8 * MiB;
    this.maxSingleCopyBytes = options.maxSingleCopyBytes ?? MAX_SINGLE_COPY_BYTES;
    this.copyPartBytes = options.copyPartBytes ?? 512 * MiB;
    this.clock = options.clock ?? Date.now;
  }

  /**
   * Fails early when the bucket can't be reached, then clears temporary objects and multipart
   * uploads a crash left: only old ones, since other replicas may be uploading right now.
   */
  async init(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
    } catch (error) {
      // No `cause`: a connection error in it would read as the coordinator's own being unreachable.
      throw new Error(`the blob store ${this.location} can't be reached: ${describe(error)}`);
    }
    const before = this.clock() - ABANDONED_AFTER_MS;
    const abandoned = (key: string, reported: number | undefined) =>
      (this.layout.tempKeyStartedAt(key) ?? reported ?? 0) < before;
    for await (const object of this.list(this.layout.tempPrefix)) {
      if (abandoned(object.key, object.storedAt)) await this.deleteKey(object.key);
    }
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    do {
      const page = await this.client.send(
        new ListMultipartUploadsCommand({
          Bucket: this.bucket,
          Prefix: this.layout.tempPrefix,
          KeyMarker: keyMarker,
          UploadIdMarker: uploadIdMarker,
        }),
      );
      for (const upload of page.Uploads ?? []) {
        if (!abandoned(upload.Key as string, upload.Initiated?.getTime())) continue;
        await this.client.send(
          new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: upload.Key, UploadId: upload.UploadId }),
        );
      }
      keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
      uploadIdMarker = page.IsTruncated ? page.NextUploadIdMarker : undefined;
    } while (keyMarker !== undefined);
  }

  async receive(
    body: Readable,
    maxBytes: number,
    onBytes: (count: number) => void,
    options: { sha512?: boolean } = {},
  ): Promise<ReceivedBody> {
    const tempName = this.layout.tempKey(this.clock(), randomUUID());
    const counter = new HashingCounter(maxBytes, onBytes, options.sha512 === true);
    // The counter's own refusal (413, cut off) is the answer, not the SDK's report of the stream failing.
    let refusal: unknown = null;
    counter.once('error', (error) => {
      refusal = error;
    });
    const stopFeeding = counter.feedFrom(body);
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.bucket, Key: tempName, Body: counter },
      partSize: this.partBytes,
      queueSize: 4,
      leavePartsOnError: false,
    });
    try {
      await upload.done();
    } catch (error) {
      counter.destroy();
      throw refusal ?? error;
    } finally {
      stopFeeding();
    }
    return { tempName, ...counter.digests() };
  }

  async commit(received: ReceivedBody): Promise<void> {
    const target = this.layout.blobKey(received.sha256);
    const source = `${this.bucket}/${encodeURI(received.tempName)}`;
    const plan = copyPlan(received.size, this.maxSingleCopyBytes, this.copyPartBytes);
    try {
      if (plan === 'single') {
        await this.client.send(
          new CopyObjectCommand({ Bucket: this.bucket, Key: target, CopySource: source, IfNoneMatch: '*' }),
        );
      } else {
        await this.copyInParts(source, target, plan);
      }
    } catch (error) {
      if (!isPreconditionFailed(error)) throw error;
    }
    await this.deleteKey(received.tempName);
  }

  async discard(received: ReceivedBody): Promise<void> {
    await this.deleteKey(received.tempName);
  }

  async remove(sha256: string): Promise<void> {
    await this.deleteKey(this.layout.blobKey(sha256));
  }

  async size(sha256: string): Promise<number | null> {
    try {
      const head = await this.client.send(
        new HeadObjectCommand({ Bucket: this.bucket, Key: this.layout.blobKey(sha256) }),
      );
      return head.ContentLength ?? null;
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  async *storedDigests(): AsyncGenerator<StoredDigest> {
    for await (const object of this.list(this.layout.blobPrefix)) {
      const sha256 = this.layout.digestOf(object.key);
      if (sha256 !== null) yield { sha256, storedAt: object.storedAt };
    }
  }

  put(body: Readable): Promise<{ sha256: string; size: number }> {
    return storeBody(this, body);
  }

  async open(sha256: string, span?: ByteSpan): Promise<Readable> {
    try {
      const object = await this.client.send(
        new GetObjectCommand({
          Bucket: this.bucket,
          Key: this.layout.blobKey(sha256),
          Range: span ? `bytes=${span.start}-${span.end}` : undefined,
        }),
      );
      return object.Body as Readable;
    } catch (error) {
      if (isNotFound(error)) throw new ApiError('not-found', `no blob with sha256 ${sha256}`);
      throw error;
    }
  }

  async downloadUrl(sha256: string, response: { contentType: string }): Promise<string | null> {
    if (!this.options.redirectDownloads) return null;
    const command = new GetObjectCommand({
      Bucket: this.bucket,
      Key: this.layout.blobKey(sha256),
      ResponseContentType: response.contentType,
    });
    return getSignedUrl(this.options.presigner, command, { expiresIn: PRESIGNED_SECONDS });
  }

  private async copyInParts(source: string, target: string, spans: Array<[number, number]>): Promise<void> {
    const created = await this.client.send(new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: target }));
    const uploadId = created.UploadId as string;
    try {
      const parts: Array<{ PartNumber: number; ETag: string }> = [];
      for (const [index, [start, end]] of spans.entries()) {
        const part = await this.client.send(
          new UploadPartCopyCommand({
            Bucket: this.bucket,
            Key: target,
            UploadId: uploadId,
            PartNumber: index + 1,
            CopySource: source,
            CopySourceRange: `bytes=${start}-${end}`,
          }),
        );
        parts.push({ PartNumber: index + 1, ETag: part.CopyPartResult?.ETag as string });
      }
      await this.client.send(
        new CompleteMultipartUploadCommand({
          Bucket: this.bucket,
          Key: target,
          UploadId: uploadId,
          MultipartUpload: { Parts: parts },
          IfNoneMatch: '*',
        }),
      );
    } catch (error) {
      await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: target, UploadId: uploadId }));
      throw error;
    }
  }

  private async *list(prefix: string): AsyncGenerator<{ key: string; storedAt: number }> {
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }),
      );
      for (const object of page.Contents ?? []) {
        if (object.Key !== undefined) yield { key: object.Key, storedAt: object.LastModified?.getTime() ?? 0 };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
  }

  private async deleteKey(key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
  }
}

function status(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
}

function isPreconditionFailed(error: unknown): boolean {
  return status(error) === 412;
}

function isNotFound(error: unknown): boolean {
  return status(error) === 404;
}

function describe(error: unknown): string {
  const status_ = status(error);
  const name = (error as Error).name ?? 'Error';
  return status_ === undefined ? `${name}: ${(error as Error).message}` : `${name} (HTTP ${status_})`;
}

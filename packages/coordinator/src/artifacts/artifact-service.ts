import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import { ApiError, CONTENT_SHA256_HEADER, type CollectResult, type UploadArtifactResponse } from '@switchyard/protocol';
import type { Logger } from 'pino';
import type { BlobStore } from '../blobs/port.ts';
import type { Farm } from '../config/farm-config.ts';
import type { ArtifactStore, DigestLockStore, UploadTarget } from '../store/port.ts';
import type { ArtifactMetrics } from './artifact-metrics.ts';
import { artifactContentType } from './content-type.ts';

const DAY_MS = 24 * 3600 * 1000;
/**
 * A blob no row names (a crash between its commit and its row leaves one) is left alone this
 * long, as a margin. What makes the sweep safe is its digest's lock, held across replicas: an
 * upload commits and records inside it, and the sweep decides again inside it (row, then size).
 */
const STRAY_GRACE_MS = 3600 * 1000;

/** An upload whose headers passed every check: it may send its body. */
export interface AdmittedUpload {
  target: UploadTarget;
  declaredSize: number | null;
  declaredSha256: string | null;
  contentType: string;
}

/**
 * Uploads and the collector: the checks that need only headers (run before `100 Continue`,
 * and again on the normal path), dedup on the wire, streaming a body into the blob store, and
 * deleting what expired.
 */
export class ArtifactService {
  constructor(
    readonly records: ArtifactStore,
    readonly blobs: BlobStore,
    private readonly locks: DigestLockStore,
    private readonly farm: () => Farm,
    private readonly metrics: ArtifactMetrics,
    private readonly logger: Logger,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Everything that can be refused before a body byte: headers, size limit, the job and its attempt. */
  /** An upload by attempt `attemptId` (its credential said so) of job `jobId`, checked before its body. */
  async admit(jobId: number, attemptId: number, name: string, headers: IncomingHttpHeaders): Promise<AdmittedUpload> {
    const maxBytes = this.farm().settings.maxArtifactBytes;
    const declaredSize = contentLength(headers['content-length']);
    if (declaredSize !== null && declaredSize > maxBytes) {
      throw new ApiError(
        'payload-too-large',
        `the artifact is ${declaredSize} bytes, over the limit of ${maxBytes} (server.max_artifact_bytes)`,
        { size: declaredSize, maxBytes },
      );
    }
    const declaredSha256 = sha256Header(headers[CONTENT_SHA256_HEADER]);
    const target = await this.records.uploadTarget(jobId, name, attemptId);
    return { target, declaredSize, declaredSha256, contentType: artifactContentType(name, headers['content-type']) };
  }

  /**
   * Dedup on the wire: when the client named a digest that is stored already, the artifact is
   * recorded at once and the body is never needed. Null when the bytes have to come.
   */
  async recordIfStored(upload: AdmittedUpload): Promise<UploadArtifactResponse | null> {
    const sha256 = upload.declaredSha256;
    if (sha256 === null) return null;
    const answer = await this.locks.withDigestLock(sha256, async () => {
      const blob = await this.records.blob(sha256);
      if (!blob || (await this.blobs.size(sha256)) !== blob.size) return null;
      if (upload.declaredSize !== null && upload.declaredSize !== blob.size) {
        throw new ApiError(
          'invalid-request',
          `${CONTENT_SHA256_HEADER} names stored content of ${blob.size} bytes, but Content-Length is ${upload.declaredSize}`,
        );
      }
      return this.records.record(upload.target, this.newArtifact(upload, sha256, blob.size));
    });
    if (answer) {
      this.metrics.uploads.inc({ outcome: 'deduplicated' });
      this.metrics.bytesNotSent.inc(answer.artifact.size);
    }
    return answer;
  }

  /**
   * Streams the body into the blob store, checks it against the declared digest, and records
   * the artifact. Anything refused on the way (too large, cut off, wrong digest) leaves no file.
   */
  async receive(upload: AdmittedUpload, body: Readable): Promise<UploadArtifactResponse> {
    const maxBytes = this.farm().settings.maxArtifactBytes;
    const received = await this.blobs.receive(body, maxBytes, (count) => this.metrics.bytesReceived.inc(count));
    if (upload.declaredSha256 !== null && upload.declaredSha256 !== received.sha256) {
      await this.blobs.discard(received);
      throw new ApiError(
        'invalid-request',
        `the body's sha256 is ${received.sha256}, not the ${upload.declaredSha256} that ${CONTENT_SHA256_HEADER} declared; nothing was stored`,
        { declared: upload.declaredSha256, actual: received.sha256 },
      );
    }
    const answer = await this.locks.withDigestLock(received.sha256, async () => {
      await this.blobs.commit(received);
      try {
        return await this.records.record(upload.target, this.newArtifact(upload, received.sha256, received.size));
      } catch (error) {
        // The collector only knows blobs by their rows: a file no row names would stay for ever.
        if (!(await this.records.blob(received.sha256))) await this.blobs.remove(received.sha256);
        throw error;
      }
    });
    this.metrics.uploads.inc({ outcome: 'uploaded' });
    return answer;
  }

  /**
   * Deletes expired artifacts, then every blob nothing references any more, bytes and row, and
   * blobs that have had no row for an hour.
   */
  async collect(): Promise<CollectResult> {
    const expiredArtifacts = await this.records.deleteExpired();
    let deletedBlobs = 0;
    let freedBytes = 0;
    for (const sha256 of await this.records.unreferencedBlobs()) {
      const size = await this.locks.withDigestLock(sha256, async () => {
        const forgotten = await this.records.forgetBlob(sha256);
        if (forgotten !== null) await this.blobs.remove(sha256);
        return forgotten;
      });
      if (size === null) continue;
      deletedBlobs += 1;
      freedBytes += size;
    }
    // A crash between a blob's commit and its row leaves a blob no row names: find those too.
    const strayBefore = this.clock() - STRAY_GRACE_MS;
    for await (const { sha256, storedAt } of this.blobs.storedDigests()) {
      if (storedAt > strayBefore) continue;
      const size = await this.locks.withDigestLock(sha256, async () => {
        if (await this.records.blob(sha256)) return null;
        const stray = await this.blobs.size(sha256);
        await this.blobs.remove(sha256);
        return stray;
      });
      if (size === null) continue;
      deletedBlobs += 1;
      freedBytes += size;
    }
    if (expiredArtifacts > 0 || deletedBlobs > 0) {
      this.logger.info({ expiredArtifacts, deletedBlobs, freedBytes }, 'artifact collector deleted expired content');
    }
    return { expiredArtifacts, deletedBlobs, freedBytes };
  }

  private newArtifact(upload: AdmittedUpload, sha256: string, size: number) {
    const expiresAt = this.clock() + this.farm().settings.artifactExpiryDays * DAY_MS;
    return { sha256, size, contentType: upload.contentType, expiresAt: Math.round(expiresAt) };
  }
}

function contentLength(value: string | undefined): number | null {
  if (value === undefined) return null;
  if (!/^\d+$/.test(value)) throw new ApiError('invalid-request', `Content-Length "${value}" is not a byte count`);
  return Number(value);
}

function sha256Header(value: string | string[] | undefined): string | null {
  if (value === undefined) return null;
  const text = (Array.isArray(value) ? value.join(',') : value).trim().toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(text)) {
    throw new ApiError('invalid-request', `${CONTENT_SHA256_HEADER} must be 64 hex digits, got "${text.slice(0, 80)}"`);
  }
  return text;
}

import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import {
  ApiError,
  isToolFilename,
  isToolVisibility,
  TOOL_FILENAME_HEADER,
  TOOL_VISIBILITY_HEADER,
  type ToolRecord,
  type ToolVisibility,
} from '@switchyard/protocol';
import type { BlobStore } from '../blobs/port.ts';
import type { Farm } from '../config/farm-config.ts';
import type { DigestLockStore, ToolStore } from '../store/port.ts';
import type { ToolMetrics } from './tool-metrics.ts';

/** A tool upload whose headers passed every check: it may send its body. */
export interface AdmittedToolUpload {
  sha512: string;
  size: number;
  visibility: ToolVisibility;
  filename: string | null;
}

/**
 * Tool uploads: the checks that need only headers (run before `100 Continue`, and again on the
 * normal path), dedup on the wire by sha512, and streaming a body into the blob store, where
 * it shares the blob of any artifact with the same bytes.
 */
export class ToolService {
  constructor(
    readonly records: ToolStore,
    readonly blobs: BlobStore,
    private readonly locks: DigestLockStore,
    private readonly farm: () => Farm,
    private readonly metrics: ToolMetrics,
  ) {}

  /** Everything that can be refused before a body byte: length, size limit, visibility and filename. */
  admit(sha512: string, headers: IncomingHttpHeaders): AdmittedToolUpload {
    const length = headers['content-length'];
    if (length === undefined) {
      throw new ApiError('length-required', 'a tool upload needs Content-Length: the size is checked before the body');
    }
    if (!/^\d+$/.test(length)) throw new ApiError('invalid-request', `Content-Length "${length}" is not a byte count`);
    const size = Number(length);
    const maxBytes = this.farm().settings.maxArtifactBytes;
    if (size > maxBytes) {
      throw new ApiError(
        'payload-too-large',
        `the tool is ${size} bytes, over the limit of ${maxBytes} (server.max_artifact_bytes)`,
        { size, maxBytes },
      );
    }
    return { sha512, size, visibility: visibilityHeader(headers), filename: filenameHeader(headers) };
  }

  /**
   * Dedup on the wire: a digest stored already is answered at once, recording the name it came
   * under, and its body is never needed. Null when the bytes have to come.
   */
  async recordIfStored(upload: AdmittedToolUpload): Promise<ToolRecord | null> {
    const stored = await this.records.find(upload.sha512);
    if (!stored) return null;
    if (stored.size !== upload.size) {
      throw new ApiError(
        'invalid-request',
        `sha512 ${upload.sha512} is stored with ${stored.size} bytes, but Content-Length is ${upload.size}`,
        { size: stored.size },
      );
    }
    const answer = await this.locks.withDigestLock(stored.sha256, async () => {
      // A damaged file is replaced by taking the body again.
      if ((await this.blobs.size(stored.sha256)) !== stored.size) return null;
      return this.records.addUpload(upload.sha512, upload.visibility, upload.filename);
    });
    if (answer) this.metrics.uploads.inc({ outcome: 'deduplicated' });
    return answer;
  }

  /**
   * Streams the body into the blob store, hashing it with sha512 (the tool's address) and sha256
   * (the blob's) in one pass, and records the tool. A body whose sha512 is not the one in the
   * URL, or one refused on the way, leaves no file.
   */
  async receive(upload: AdmittedToolUpload, body: Readable): Promise<{ tool: ToolRecord; created: boolean }> {
    const maxBytes = this.farm().settings.maxArtifactBytes;
    const received = await this.blobs.receive(body, maxBytes, (count) => this.metrics.bytesReceived.inc(count), {
      sha512: true,
    });
    if (received.sha512 !== upload.sha512) {
      await this.blobs.discard(received);
      throw new ApiError(
        'digest-mismatch',
        `the body's sha512 is ${received.sha512}, not the ${upload.sha512} of the URL; nothing was stored`,
        { declared: upload.sha512, actual: received.sha512 },
      );
    }
    const answer = await this.locks.withDigestLock(received.sha256, async () => {
      await this.blobs.commit(received);
      try {
        return await this.records.record({
          sha512: upload.sha512,
          sha256: received.sha256,
          size: received.size,
          visibility: upload.visibility,
          filename: upload.filename,
        });
      } catch (error) {
        // The collector only knows blobs by their rows: a file no row names would stay for ever.
        if (!(await this.records.blobIsRecorded(received.sha256))) await this.blobs.remove(received.sha256);
        throw error;
      }
    });
    this.metrics.uploads.inc({ outcome: 'uploaded' });
    return answer;
  }
}

function visibilityHeader(headers: IncomingHttpHeaders): ToolVisibility {
  const value = headers[TOOL_VISIBILITY_HEADER];
  if (value === undefined) return 'internal';
  const text = (Array.isArray(value) ? value.join(',') : value).trim();
  if (!isToolVisibility(text)) {
    throw new ApiError('invalid-request', `${TOOL_VISIBILITY_HEADER} must be "public" or "internal", got "${text}"`);
  }
  return text;
}

function filenameHeader(headers: IncomingHttpHeaders): string | null {
  const value = headers[TOOL_FILENAME_HEADER];
  if (value === undefined) return null;
  const text = Array.isArray(value) ? value.join(',') : value;
  if (!isToolFilename(text)) {
    throw new ApiError(
      'invalid-request',
      `${TOOL_FILENAME_HEADER} "${text.slice(0, 80)}" is not a tooltool filename (no "/" or "\\", no leading dot)`,
    );
  }
  return text;
}

import type { IncomingHttpHeaders } from 'node:http';
import { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { matchesEtag, parseRange } from '../artifacts/byte-range.ts';
import type { BlobStore } from '../blobs/port.ts';

/** A blob of the blob store, served as immutable bytes. */
export interface StoredBytes {
  blobs: BlobStore;
  sha256: string;
  size: number;
  /** Quoted: `"<digest>"`. */
  etag: string;
  cacheControl: string;
  contentType: string;
}

/** How a GET or HEAD of stored bytes is answered. */
export type StoredBytesAnswer =
  | { kind: 'not-modified' }
  | { kind: 'unsatisfiable' }
  /** To the store's own URL (a presigned S3 URL), which honours the same Range itself. */
  | { kind: 'redirect' }
  | { kind: 'bytes'; status: 200 | 206; start: number; end: number; read: boolean };

/**
 * The answer, from the request alone: If-None-Match (304) and a Range outside the bytes (416) are
 * answered here whatever the store; a GET for bytes goes to the store's URL when it has one, while
 * HEAD is answered here, with no bytes read.
 */
export function storedBytesAnswer(
  request: { method: string; headers: IncomingHttpHeaders },
  bytes: { size: number; etag: string },
  redirects: boolean,
): StoredBytesAnswer {
  if (matchesEtag(request.headers['if-none-match'], bytes.etag)) return { kind: 'not-modified' };
  const ifRange = request.headers['if-range'];
  const range = ifRange === undefined || ifRange === bytes.etag ? parseRange(request.headers.range, bytes.size) : null;
  if (range?.kind === 'unsatisfiable') return { kind: 'unsatisfiable' };
  const head = request.method === 'HEAD';
  if (redirects && !head) return { kind: 'redirect' };
  const read = !head && bytes.size > 0;
  if (range?.kind === 'partial') return { kind: 'bytes', status: 206, start: range.start, end: range.end, read };
  return { kind: 'bytes', status: 200, start: 0, end: bytes.size - 1, read };
}

/**
 * Answers a GET or HEAD with stored bytes that never change: ETag and Cache-Control, Range
 * (206, or 416 outside the bytes), If-Range and If-None-Match (304); from the coordinator, or with
 * a 307 to the store's presigned URL when the store is set to redirect downloads.
 */
export async function sendStoredBytes(
  request: FastifyRequest,
  reply: FastifyReply,
  bytes: StoredBytes,
): Promise<FastifyReply> {
  // What is stored is whatever a build or an uploader wrote: a browser must download it, never
  // render it as the API's own page (an uploaded .html would otherwise run with this origin's cookies).
  reply
    .header('etag', bytes.etag)
    .header('cache-control', bytes.cacheControl)
    .header('accept-ranges', 'bytes')
    .header('x-content-type-options', 'nosniff')
    .header('content-security-policy', "default-src 'none'; sandbox");
  const url = request.method === 'HEAD' ? null : await bytes.blobs.downloadUrl(bytes.sha256, bytes);
  const answer = storedBytesAnswer(request, bytes, url !== null);
  switch (answer.kind) {
    case 'not-modified':
      return reply.code(304).send();
    case 'unsatisfiable':
      return reply
        .code(416)
        .header('content-range', `bytes */${bytes.size}`)
        .send({
          error: {
            code: 'range-not-satisfiable',
            message: `the range "${request.headers.range}" is outside the ${bytes.size} bytes stored`,
            details: { size: bytes.size },
          },
        });
    case 'redirect':
      // The URL expires in minutes: no cache may keep the redirect, only the bytes it leads to.
      return reply.code(307).header('cache-control', 'no-store').header('location', url).send();
    case 'bytes': {
      const { start, end } = answer;
      reply
        .code(answer.status)
        .header('content-type', bytes.contentType)
        .header('content-length', end - start + 1);
      if (answer.status === 206) reply.header('content-range', `bytes ${start}-${end}/${bytes.size}`);
      // Fastify answers HEAD through the GET route, draining whatever stream it is given and
      // keeping this Content-Length: an empty stream spares reading the blob for nothing.
      if (!answer.read) return reply.send(Readable.from([]));
      return reply.send(await bytes.blobs.open(bytes.sha256, { start, end }));
    }
  }
}

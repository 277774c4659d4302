import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { matchesEtag, parseRange } from '../artifacts/byte-range.ts';

/** A file of the blob store, served as immutable bytes. */
export interface StoredBytes {
  path: string;
  size: number;
  /** Quoted: `"<digest>"`. */
  etag: string;
  cacheControl: string;
  contentType: string;
}

/**
 * Answers a GET or HEAD with stored bytes that never change: ETag and Cache-Control, Range
 * (206, or 416 outside the bytes), If-Range and If-None-Match (304). HEAD gets the headers
 * without the file being read.
 */
export function sendStoredBytes(request: FastifyRequest, reply: FastifyReply, bytes: StoredBytes): FastifyReply {
  // What is stored is whatever a build or an uploader wrote: a browser must download it, never
  // render it as the API's own page (an uploaded .html would otherwise run with this origin's cookies).
  reply
    .header('etag', bytes.etag)
    .header('cache-control', bytes.cacheControl)
    .header('accept-ranges', 'bytes')
    .header('x-content-type-options', 'nosniff')
    .header('content-security-policy', "default-src 'none'; sandbox");
  if (matchesEtag(request.headers['if-none-match'], bytes.etag)) return reply.code(304).send();
  const ifRange = request.headers['if-range'];
  const range = ifRange === undefined || ifRange === bytes.etag ? parseRange(request.headers.range, bytes.size) : null;
  if (range?.kind === 'unsatisfiable') {
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
  }
  reply.header('content-type', bytes.contentType);
  const [start, end] = range?.kind === 'partial' ? [range.start, range.end] : [0, bytes.size - 1];
  if (range?.kind === 'partial') reply.code(206).header('content-range', `bytes ${start}-${end}/${bytes.size}`);
  else reply.code(200);
  reply.header('content-length', end - start + 1);
  // Fastify answers HEAD through the GET route, draining whatever stream it is given and
  // keeping this Content-Length: an empty stream spares reading the file for nothing.
  if (request.method === 'HEAD' || bytes.size === 0) return reply.send(Readable.from([]));
  return reply.send(createReadStream(bytes.path, { start, end }));
}

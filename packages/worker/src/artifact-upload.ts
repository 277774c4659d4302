import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { pipeline } from 'node:stream/promises';
import { CONTENT_SHA256_HEADER } from '@switchyard/protocol';

export interface UploadRequest {
  /** Where it goes: an artifact's `<server>/api/v1/jobs/<id>/artifacts/<name>`, a tool's `<base>/sha512/<digest>`. */
  url: string;
  /** An artifact's: the attempt's own credential, which also says which attempt it belongs to. */
  token: string | undefined;
  file: string;
  size: number;
  /** An artifact's, which the server checks the body against. */
  sha256?: string;
  /** Further headers, such as a tool's visibility and filename. */
  headers?: Record<string, string>;
  signal: AbortSignal;
}

export interface UploadAnswer {
  status: number;
  body: string;
  /** Whether the server asked for the body (100 Continue) and got it. */
  bodySent: boolean;
}

/**
 * If the server never answers the Expect (a proxy in between that ignores it), the body goes
 * anyway after this long, as curl does after 1 s.
 */
const CONTINUE_TIMEOUT_MS = 3000;
/** A connection that moves no byte for this long is given up (and the transfer tried again). */
export const TRANSFER_IDLE_MS = 60_000;

/** What a connection idle for TRANSFER_IDLE_MS is destroyed with: a timeout, as the system's own. */
export function transferStalled(): Error {
  return Object.assign(new Error(`no progress for ${TRANSFER_IDLE_MS / 1000} s`), { code: 'ETIMEDOUT' });
}

/** The sha256 of a file, read as a stream. */
export async function fileSha256(file: string, signal?: AbortSignal): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file), hash, { signal });
  return hash.digest('hex');
}

/**
 * PUTs a file with `Expect: 100-continue` and its digest, and sends the body only once the
 * server asks for it. A server that refuses, or already holds these bytes, answers before the
 * body: nothing is sent twice. (fetch can't do this: undici refuses the Expect header.)
 */
export function uploadWithExpect(upload: UploadRequest): Promise<UploadAnswer> {
  return new Promise((resolve, reject) => {
    const target = new URL(upload.url);
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    const headers: Record<string, string> = {
      ...upload.headers,
      expect: '100-continue',
      'content-length': String(upload.size),
      'content-type': 'application/octet-stream',
    };
    if (upload.sha256 !== undefined) headers[CONTENT_SHA256_HEADER] = upload.sha256;
    if (upload.token) headers.authorization = `Bearer ${upload.token}`;
    // A connection of its own: after a refusal without 100 Continue the server closes it.
    const request = send(target, { method: 'PUT', headers, agent: false, signal: upload.signal });
    let bodySent = false;
    let answered = false;
    const sendBody = () => {
      if (bodySent || answered) return;
      bodySent = true;
      clearTimeout(fallback);
      const body = createReadStream(upload.file);
      body.on('error', (error) => request.destroy(error));
      body.pipe(request);
    };
    const fallback = setTimeout(sendBody, CONTINUE_TIMEOUT_MS);
    request.setTimeout(TRANSFER_IDLE_MS, () => request.destroy(transferStalled()));
    request.on('continue', sendBody);
    request.on('error', (error) => {
      clearTimeout(fallback);
      reject(error);
    });
    request.on('response', (response: IncomingMessage) => {
      answered = true;
      clearTimeout(fallback);
      // Answered before the body went out: it never will, so the request ends here.
      if (!bodySent) request.end();
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', reject);
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), bodySent }),
      );
    });
    request.flushHeaders();
  });
}

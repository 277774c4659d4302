import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders, type RequestOptions } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { StreamResponse } from './transport.ts';

export interface PlainResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** How long a stream may send nothing before it is given up. */
const STREAM_IDLE_MS = 300_000;

// Kept-alive connections: a worker makes several calls per job and a log batch every 250 ms.
const httpAgent = new HttpAgent({ keepAlive: true });
const httpsAgent = new HttpsAgent({ keepAlive: true });

/**
 * One request with node:http rather than fetch: the worker's log batches go through here, and
 * fetch's web streams cost a copy of every body and a sizeable share of a worker's CPU in
 * bench/log-ingest.ts. Network failures reject with the system error (ECONNREFUSED, …).
 */
export function plainRequest(
  method: string,
  url: string,
  headers: Record<string, string>,
  body: Uint8Array | undefined,
  signal: AbortSignal | undefined,
): Promise<PlainResponse> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const request = send(url, {
      method,
      headers: body === undefined ? headers : { ...headers, 'content-length': String(body.length) },
      signal,
    });
    request.on('error', reject);
    request.on('response', (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', reject);
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }),
      );
    });
    request.end(body);
  });
}

/**
 * A GET with node:http whose answer is read as it arrives (logs, the event stream): fetch costs a
 * short command like `switchyard logs` tens of milliseconds of start-up the first time it is called.
 */
export function plainStream(
  url: string,
  headers: Record<string, string>,
  signal: AbortSignal | undefined,
): Promise<StreamResponse> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const request = send(url, { headers, signal });
    // As fetch does (undici's body timeout): a connection silent this long is given up, and the
    // event stream connects again. The coordinator's streams send a heartbeat well within it.
    request.setTimeout(STREAM_IDLE_MS, () => request.destroy(new Error(`no data for ${STREAM_IDLE_MS / 1000} s`)));
    request.on('error', reject);
    request.on('response', (response) => resolve({ status: response.statusCode ?? 0, body: response }));
    request.end();
  });
}

/** A request over node:http or node:https, by the URL's scheme, through that scheme's kept-alive agent. */
function send(url: string, options: RequestOptions) {
  const target = new URL(url);
  const https = target.protocol === 'https:';
  return (https ? httpsRequest : httpRequest)(target, { ...options, agent: https ? httpsAgent : httpAgent });
}

import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { Readable } from 'node:stream';

/** Headers that belong to one connection (RFC 9110 §7.6.1) and are never forwarded. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
]);

/** Conditional and range headers of a client; a fill asks for the whole object, unconditionally. */
const PER_CLIENT = new Set([
  'range',
  'if-range',
  'if-none-match',
  'if-modified-since',
  'if-match',
  'if-unmodified-since',
]);

export function forwardableHeaders(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const listed = String(headers.connection ?? '')
    .toLowerCase()
    .split(',')
    .map((name) => name.trim());
  const forwarded: IncomingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!HOP_BY_HOP.has(name) && !listed.includes(name)) forwarded[name] = value;
  }
  return forwarded;
}

/** The headers a fill sends: the client's, without its connection, range and conditions. */
export function fillHeaders(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const forwarded = forwardableHeaders(headers);
  for (const name of PER_CLIENT) delete forwarded[name];
  return forwarded;
}

export interface UpstreamRequest {
  method: string;
  target: URL;
  headers: IncomingHttpHeaders;
  body?: Readable;
}

export class UpstreamUnreachableError extends Error {
  override readonly name = 'UpstreamUnreachableError';
}

/** Requests to the origins, over keep-alive connections of its own. */
export class UpstreamClient {
  private readonly httpAgent = new HttpAgent({ keepAlive: true, maxSockets: 256 });
  private readonly httpsAgent = new HttpsAgent({ keepAlive: true, maxSockets: 256 });

  /** @param timeoutMs how long an origin may take to answer, or stay silent mid-body */
  constructor(private readonly timeoutMs: number) {}

  /** Sends one request; resolves with the response once its headers arrive. */
  request(options: UpstreamRequest): Promise<IncomingMessage> {
    const { target } = options;
    const secure = target.protocol === 'https:';
    const send = secure ? httpsRequest : httpRequest;
    const timeoutMs = this.timeoutMs;
    return new Promise((resolve, reject) => {
      const request = send(target, {
        method: options.method,
        headers: { ...options.headers, host: target.host },
        agent: secure ? this.httpsAgent : this.httpAgent,
        timeout: timeoutMs,
      });
      request.once('response', (response) => {
        response.setTimeout(timeoutMs, () =>
          response.destroy(new UpstreamUnreachableError(`no data from ${target.origin} for ${timeoutMs} ms`)),
        );
        resolve(response);
      });
      request.once('timeout', () =>
        request.destroy(new UpstreamUnreachableError(`${target.origin} did not answer within ${timeoutMs} ms`)),
      );
      request.once('error', (error) =>
        reject(
          error instanceof UpstreamUnreachableError
            ? error
            : new UpstreamUnreachableError(`${target.origin}: ${error.message}`, { cause: error }),
        ),
      );
      if (options.body) options.body.pipe(request);
      else request.end();
    });
  }

  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }
}

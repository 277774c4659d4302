import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Logger } from 'pino';
import { pumpBody, type ReadAt } from './body-pump.ts';
import { chooseReuse, staleUsableOnError } from './cache-policy.ts';
import { contentAddressOf } from './content-address.ts';
import type { CacheEntry, EntryStore } from './entry-store.ts';
import { sendError } from './errors.ts';
import { readFdNow } from './fd-io.ts';
import { Fill, type FillOutcome, type FillReader } from './fill.ts';
import { invalidatedPaths } from './invalidation.ts';
import { chooseRange } from './range.ts';
import type { Route } from './route.ts';
import type { CacheStatus, ProxyMetrics } from './stats.ts';
import { headersToServe } from './stored-response.ts';
import { fillHeaders, forwardableHeaders, type UpstreamClient } from './upstream-client.ts';
import { clientConditionHolds } from './validators.ts';
import { sameSelection } from './vary.ts';

export interface CacheHandlerContext {
  store: EntryStore;
  client: UpstreamClient;
  metrics: ProxyMetrics;
  logger: Logger;
}

const STATUS_HEADER = 'x-switchyard-cache';

/** Warn codes of RFC 7234 §5.5 (RFC 9111 obsoletes Warning; RFC 5861 still asks stale responses to carry one). */
const STALE_WARNING = '110 - "Response is Stale"';
const REVALIDATION_FAILED_WARNING = '111 - "Revalidation Failed"';

/**
 * Answers proxy requests for one route: from disk when a stored entry may be used, otherwise through
 * one shared fill per object (later requests join it), revalidating stale entries and standing in
 * with them when the origin fails. Requests the cache must not answer go straight through.
 */
export class CacheHandler {
  private readonly fills = new Map<string, Fill>();

  constructor(private readonly context: CacheHandlerContext) {}

  /** Fills in progress, for a clean shutdown. */
  inFlight(): Promise<void>[] {
    return [...this.fills.values()].map((fill) => fill.settled);
  }

  async handle(req: IncomingMessage, res: ServerResponse, route: Route): Promise<void> {
    const method = req.method ?? 'GET';
    if (method !== 'GET' && method !== 'HEAD') return this.passThrough(req, res, route, 'BYPASS');
    const key = `${route.upstream.name}${route.path}`;
    const collapseKey = `${key}\0${req.headers.authorization ?? ''}`;
    const entry = this.context.store.find(key, req);
    const reuse = entry && chooseReuse(entry.meta.response, req.headers, entry.meta.immutable, Date.now());
    if (entry && reuse === 'fresh') {
      if (await this.serveEntry(entry, req, res, route, 'HIT')) return;
    }
    if (entry && reuse === 'stale-while-revalidate') {
      this.revalidateInBackground(collapseKey, key, req, route, entry);
      if (await this.serveEntry(entry, req, res, route, 'STALE', STALE_WARNING)) return;
    }
    // A HEAD is not worth a fill: it would fetch a whole body nobody asked for.
    if (method === 'HEAD') return this.passThrough(req, res, route, 'MISS');

    const running = this.fills.get(collapseKey);
    const joined = running?.joinable === true;
    const fill = joined ? running : this.startFill(collapseKey, key, req, route, entry);
    const reader = fill.attach();
    const outcome = await fill.outcome;
    if (outcome.kind !== 'body') reader.detach();
    switch (outcome.kind) {
      case 'body':
        if (joined && !sameSelection(outcome.vary, fill.clientFieldLines, req.headersDistinct)) {
          reader.detach();
          return this.passThrough(req, res, route, 'MISS');
        }
        return this.serveFill(reader, outcome, req, res, route, joined ? 'COLLAPSED' : 'MISS');
      case 'not-modified':
        if (await this.serveEntry(outcome.entry, req, res, route, 'REVALIDATED')) return;
        return this.passThrough(req, res, route, 'MISS');
      case 'uncacheable':
        if (joined) return this.passThrough(req, res, route, 'MISS');
        return this.relay(outcome.response, res, route, 'MISS');
      case 'failed': {
        // The origin's own answer, if any, belongs to the request that started the fill.
        const answer = joined ? undefined : outcome.response;
        if (entry && staleUsableOnError(entry.meta.response, outcome.failure, Date.now())) {
          answer?.destroy();
          this.context.logger.warn({ key, reason: outcome.message }, 'upstream failed: serving stale');
          if (await this.serveEntry(entry, req, res, route, 'STALE', REVALIDATION_FAILED_WARNING)) return;
        }
        if (answer && !answer.destroyed) return this.relay(answer, res, route, 'MISS');
        this.context.metrics.request(route.upstream.name, 'MISS');
        return sendError(
          res,
          502,
          'upstream-unavailable',
          `the upstream ${route.upstream.name} failed: ${outcome.message}`,
          { upstream: route.upstream.name },
          { [STATUS_HEADER]: 'MISS' },
        );
      }
    }
  }

  private startFill(
    collapseKey: string,
    key: string,
    req: IncomingMessage,
    route: Route,
    previous: CacheEntry | undefined,
  ): Fill {
    const { store, client, logger, metrics } = this.context;
    const fill = new Fill(
      {
        key,
        upstream: route.upstream.name,
        target: route.target,
        headers: fillHeaders(req.headers),
        clientHeaders: req.headers,
        clientFieldLines: req.headersDistinct,
        contentAddress: contentAddressOf(route.path),
        previous,
      },
      { store, client, logger, countUpstreamBytes: (bytes) => metrics.fromUpstream(route.upstream.name, bytes) },
    );
    this.fills.set(collapseKey, fill);
    void fill.settled.finally(() => {
      if (this.fills.get(collapseKey) === fill) this.fills.delete(collapseKey);
    });
    return fill;
  }

  /**
   * Revalidates a stale entry while it is being served (RFC 5861 §3: "the cache SHOULD attempt to
   * revalidate it while still serving stale responses (i.e., without blocking)"), once: not while
   * a fetch of the same object is under way. Nobody reads the fill; an answer it cannot store is
   * dropped.
   */
  private revalidateInBackground(
    collapseKey: string,
    key: string,
    req: IncomingMessage,
    route: Route,
    entry: CacheEntry,
  ): void {
    if (this.fills.has(collapseKey)) return;
    const fill = this.startFill(collapseKey, key, req, route, entry);
    void fill.outcome.then((outcome) => {
      if (outcome.kind === 'uncacheable') outcome.response.destroy();
      if (outcome.kind === 'failed') {
        outcome.response?.destroy();
        this.context.logger.warn({ key, reason: outcome.message }, 'background revalidation failed');
      }
    });
  }

  /** Serves a stored entry; false when its body turned out damaged (the entry is gone then). */
  private async serveEntry(
    entry: CacheEntry,
    req: IncomingMessage,
    res: ServerResponse,
    route: Route,
    status: CacheStatus,
    warning?: string,
  ): Promise<boolean> {
    const { store, metrics } = this.context;
    const body = await store.acquireBody(entry);
    if (!body) return false;
    store.touch(entry);
    metrics.request(route.upstream.name, status);
    const stored = entry.meta.response;
    const headers: OutgoingHttpHeaders = headersToServe(stored, Date.now());
    headers[STATUS_HEADER] = status;
    if (warning) headers.warning = warning;
    if (clientConditionHolds(req.headers, stored)) {
      body.release();
      delete headers['content-length'];
      res.writeHead(304, headers);
      res.end();
      return true;
    }
    const size = entry.meta.size;
    const span = writeBodyHead(req, res, stored.status, size, headers, status);
    if (span === null) {
      body.release();
      return true;
    }
    const { start, end } = span;
    if (req.method === 'HEAD' || size === 0) {
      body.release();
      res.end();
      return true;
    }
    if (body.bytes) {
      body.release();
      const bytes = body.bytes.subarray(start, end === undefined ? undefined : end + 1);
      metrics.served(route.upstream.name, bytes.length);
      res.end(bytes);
      return true;
    }
    const readAt: ReadAt = (buffer, length, position) => readFdNow(body.fd, buffer, length, position);
    void this.pump(res, readAt, start, end, route).finally(() => body.release());
    return true;
  }

  /** Serves a response while its fill is still receiving it: from disk as the bytes land, a range once they exist. */
  private serveFill(
    reader: FillReader,
    outcome: Extract<FillOutcome, { kind: 'body' }>,
    req: IncomingMessage,
    res: ServerResponse,
    route: Route,
    status: CacheStatus,
  ): Promise<void> {
    this.context.metrics.request(route.upstream.name, status);
    const headers: OutgoingHttpHeaders = { ...outcome.headers, [STATUS_HEADER]: status };
    const size = outcome.size;
    delete headers['content-length'];
    const span = writeBodyHead(req, res, outcome.status, size, headers, status);
    if (span === null) {
      reader.detach();
      return Promise.resolve();
    }
    if (size === 0) {
      reader.detach();
      res.end();
      return Promise.resolve();
    }
    return this.pump(res, reader.readInto, span.start, span.end, route).finally(() => reader.detach());
  }

  /** Sends an origin's answer on as it is, for the one client that asked. */
  private relay(response: IncomingMessage, res: ServerResponse, route: Route, status: CacheStatus): Promise<void> {
    this.context.metrics.request(route.upstream.name, status);
    res.writeHead(response.statusCode ?? 502, { ...forwardableHeaders(response.headers), [STATUS_HEADER]: status });
    response.on('data', (chunk: Buffer) => this.context.metrics.fromUpstream(route.upstream.name, chunk.length));
    return this.send(response, res, route);
  }

  /** A request the cache does not answer: sent to the origin, its answer relayed, nothing kept. */
  async passThrough(req: IncomingMessage, res: ServerResponse, route: Route, status: CacheStatus): Promise<void> {
    const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
    let response: IncomingMessage;
    try {
      response = await this.context.client.request({
        method: req.method ?? 'GET',
        target: route.target,
        headers: forwardableHeaders(req.headers),
        body: hasBody ? req : undefined,
      });
    } catch (error) {
      this.context.metrics.request(route.upstream.name, status);
      return sendError(
        res,
        502,
        'upstream-unavailable',
        `the upstream ${route.upstream.name} failed: ${(error as Error).message}`,
        { upstream: route.upstream.name },
        { [STATUS_HEADER]: status },
      );
    }
    await this.invalidateAfter(req.method ?? 'GET', response, route);
    return this.relay(response, res, route, status);
  }

  /**
   * Removes the entries an unsafe request's answer invalidates (RFC 9111 §4.4), before that answer
   * is relayed, so the client's next request never sees the state its own request changed.
   */
  private async invalidateAfter(method: string, response: IncomingMessage, route: Route): Promise<void> {
    for (const path of invalidatedPaths(method, response.statusCode ?? 502, route, response.headers)) {
      await this.context.store.removeKey(`${route.upstream.name}${path}`);
    }
  }

  private async pump(res: ServerResponse, readAt: ReadAt, start: number, end: number | undefined, route: Route) {
    try {
      await pumpBody(res, readAt, start, end, (bytes) => this.context.metrics.served(route.upstream.name, bytes));
    } catch (error) {
      // The client left, or the fill failed: the response is cut off, never completed with wrong bytes.
      if (!res.destroyed) res.destroy();
      this.context.logger.debug({ path: route.path, err: (error as Error).message }, 'response cut off');
    }
  }

  private async send(body: Readable, res: ServerResponse, route: Route): Promise<void> {
    const { metrics, logger } = this.context;
    body.on('data', (chunk: Buffer) => metrics.served(route.upstream.name, chunk.length));
    try {
      await pipeline(body, res);
    } catch (error) {
      // The client left, or the fill failed: the response is cut off, never completed with wrong bytes.
      if (!res.destroyed) res.destroy();
      logger.debug({ path: route.path, err: (error as Error).message }, 'response cut off');
    }
  }
}

/**
 * Writes the head of a response with a body of `size` bytes (undefined: not known yet) and returns
 * the span of its bytes to send. A 200 of known size answers the request's `Range` (or its
 * absence) with a 200 or 206, or with a 416 (then null). Any other answer is sent whole, with its
 * own status: RFC 9110 §14.2 evaluates a Range "only if the result in absence of the Range header
 * field would be a 200 (OK) response".
 */
function writeBodyHead(
  req: IncomingMessage,
  res: ServerResponse,
  responseStatus: number,
  size: number | undefined,
  headers: OutgoingHttpHeaders,
  status: CacheStatus,
): { start: number; end: number | undefined } | null {
  if (responseStatus !== 200 || size === undefined) {
    // RFC 9110 §8.6: "A server MUST NOT send a Content-Length header field in any response with a
    // status code of 1xx (Informational) or 204 (No Content)."
    if (size !== undefined && responseStatus !== 204) headers['content-length'] = size;
    res.writeHead(responseStatus, headers);
    return { start: 0, end: size === undefined ? undefined : size - 1 };
  }
  const range = chooseRange(size, req.headers, {
    etag: headers.etag as string | undefined,
    lastModified: headers['last-modified'] as string | undefined,
  });
  if (range.kind === 'unsatisfiable') {
    sendError(
      res,
      416,
      'range-not-satisfiable',
      `the object has ${size} bytes`,
      { size },
      {
        [STATUS_HEADER]: status,
        'content-range': `bytes */${size}`,
      },
    );
    return null;
  }
  const [start, end] = range.kind === 'partial' ? [range.start, range.end] : [0, size - 1];
  headers['accept-ranges'] = 'bytes';
  headers['content-length'] = end - start + 1;
  if (range.kind === 'partial') headers['content-range'] = `bytes ${start}-${end}/${size}`;
  res.writeHead(range.kind === 'partial' ? 206 : 200, headers);
  return { start, end };
}

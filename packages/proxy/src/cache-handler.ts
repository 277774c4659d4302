import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Logger } from 'pino';
import { pumpBody, type ReadAt } from './body-pump.ts';
import { type CachePolicy, isFresh, policyRequest, staleUsableOnError } from './cache-policy.ts';
import { contentAddressOf } from './content-address.ts';
import type { CacheEntry, EntryStore } from './entry-store.ts';
import { sendError } from './errors.ts';
import { readFd } from './fd-io.ts';
import { Fill, type FillOutcome, type FillReader } from './fill.ts';
import { chooseRange } from './range.ts';
import type { Route } from './route.ts';
import type { CacheStatus, ProxyMetrics } from './stats.ts';
import { fillHeaders, forwardableHeaders, type UpstreamClient } from './upstream-client.ts';

export interface CacheHandlerContext {
  store: EntryStore;
  client: UpstreamClient;
  metrics: ProxyMetrics;
  logger: Logger;
}

const STATUS_HEADER = 'x-switchyard-cache';

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
    const request = policyRequest(method, route.path, req.headers, route.target.host);
    const entry = this.context.store.find(key, req.headers);
    if (entry && isFresh(entry.policy, { ...request, method: 'GET' }, entry.meta.immutable)) {
      if (await this.serveEntry(entry, req, res, route, 'HIT')) return;
    }
    // A HEAD is not worth a fill: it would fetch a whole body nobody asked for.
    if (method === 'HEAD') return this.passThrough(req, res, route, 'MISS');

    const collapseKey = `${key}\0${req.headers.authorization ?? ''}`;
    const running = this.fills.get(collapseKey);
    const joined = running?.joinable === true;
    const fill = joined ? running : this.startFill(collapseKey, key, route, request, entry);
    const reader = fill.attach();
    const outcome = await fill.outcome;
    if (outcome.kind !== 'body') reader.detach();
    switch (outcome.kind) {
      case 'body':
        if (joined && !sameVariant(outcome.vary, fill.requestHeaders, req.headers)) {
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
        if (entry && staleUsableOnError(entry.policy, outcome.failure)) {
          answer?.destroy();
          this.context.logger.warn({ key, reason: outcome.message }, 'upstream failed: serving stale');
          if (await this.serveEntry(entry, req, res, route, 'STALE')) return;
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
    route: Route,
    request: CachePolicy.HttpRequest,
    previous: CacheEntry | undefined,
  ): Fill {
    const fetchRequest = {
      ...request,
      method: 'GET',
      headers: { ...fillHeaders(request.headers as IncomingHttpHeaders), host: route.target.host },
    };
    const headers = previous ? previous.policy.revalidationHeaders(fetchRequest) : fetchRequest.headers;
    const { store, client, logger, metrics } = this.context;
    const fill = new Fill(
      {
        key,
        upstream: route.upstream.name,
        target: route.target,
        headers,
        policyRequest: fetchRequest,
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

  /** Serves a stored entry; false when its body turned out damaged (the entry is gone then). */
  private async serveEntry(
    entry: CacheEntry,
    req: IncomingMessage,
    res: ServerResponse,
    route: Route,
    status: CacheStatus,
  ): Promise<boolean> {
    const { store, metrics } = this.context;
    const body = await store.acquireBody(entry);
    if (!body) return false;
    store.touch(entry);
    metrics.request(route.upstream.name, status);
    const headers: OutgoingHttpHeaders = { ...entry.policy.responseHeaders(), [STATUS_HEADER]: status };
    if (status === 'STALE') headers.warning = '111 - "Revalidation Failed"';
    const etag = headers.etag as string | undefined;
    if (etag && etagListMatches(req.headers['if-none-match'], etag)) {
      body.release();
      delete headers['content-length'];
      res.writeHead(304, headers);
      res.end();
      return true;
    }
    const size = entry.meta.size;
    const span = writeRangeHead(req, res, size, headers, status);
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
    const readAt: ReadAt = (buffer, length, position) => readFd(body.fd, buffer, length, position);
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
    let start = 0;
    let end: number | undefined;
    if (size !== undefined) {
      const span = writeRangeHead(req, res, size, headers, status);
      if (span === null) {
        reader.detach();
        return Promise.resolve();
      }
      ({ start, end } = span);
    } else {
      res.writeHead(200, headers);
    }
    if (size === 0) {
      reader.detach();
      res.end();
      return Promise.resolve();
    }
    return this.pump(res, reader.readInto, start, end, route).finally(() => reader.detach());
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
    return this.relay(response, res, route, status);
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

/** Whether a joiner asked for the same variant as the request that started the fill. */
function sameVariant(vary: readonly string[], first: IncomingHttpHeaders, joiner: IncomingHttpHeaders): boolean {
  return vary.every((name) => String(first[name] ?? '') === String(joiner[name] ?? ''));
}

function etagListMatches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  const bare = etag.replace(/^W\//, '');
  return ifNoneMatch.split(',').some((candidate) => {
    const tag = candidate.trim();
    return tag === '*' || tag.replace(/^W\//, '') === bare;
  });
}

/**
 * Answers the request's `Range` (or its absence) for an object of `size` bytes: writes the head
 * of a 200 or 206 and returns the span of bytes to send, or answers 416 and returns null.
 */
function writeRangeHead(
  req: IncomingMessage,
  res: ServerResponse,
  size: number,
  headers: OutgoingHttpHeaders,
  status: CacheStatus,
): { start: number; end: number } | null {
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

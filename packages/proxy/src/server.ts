import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { CacheHandler } from './cache-handler.ts';
import { sendError } from './errors.ts';
import { resolveRoute } from './route.ts';
import type { ProxyMetrics } from './stats.ts';
import type { Upstream } from './upstreams.ts';

export interface ProxyServerContext {
  upstreams: ReadonlyMap<string, Upstream>;
  handler: CacheHandler;
  metrics: ProxyMetrics;
  logger: Logger;
}

/**
 * The HTTP front: `/metrics` and `/_stats` are the proxy's own; every other path starts with the name
 * of an upstream. Plain node:http, so bodies stream straight between files, sockets and the origin.
 */
export function createProxyServer(context: ProxyServerContext): Server {
  const server = createServer((req, res) => {
    handle(req, res, context).catch((error: Error) => {
      context.logger.error({ err: error, url: req.url }, 'request failed');
      sendError(res, 500, 'internal', 'the proxy failed to answer this request', {});
    });
  });
  server.keepAliveTimeout = 65_000;
  return server;
}

async function handle(req: IncomingMessage, res: ServerResponse, context: ProxyServerContext): Promise<void> {
  const target = req.url ?? '/';
  if (target === '/metrics' && req.method === 'GET') {
    const body = await context.metrics.registry.metrics();
    res.writeHead(200, { 'content-type': context.metrics.registry.contentType });
    res.end(body);
    return;
  }
  if (target === '/_stats' && req.method === 'GET') {
    const body = JSON.stringify(context.metrics.snapshot());
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
    res.end(body);
    return;
  }
  const route = resolveRoute(target, context.upstreams);
  if ('unknown' in route) {
    const names = [...context.upstreams.keys()];
    return sendError(
      res,
      404,
      'not-found',
      route.unknown
        ? `no upstream named "${route.unknown}": this proxy serves ${names.map((name) => `/${name}/`).join(', ')}`
        : `proxy paths start with an upstream name: ${names.map((name) => `/${name}/`).join(', ')}`,
      { upstreams: names },
    );
  }
  if ('escapes' in route) {
    return sendError(res, 400, 'invalid-request', `the path ${route.escapes} leaves the upstream's base path`, {
      path: route.escapes,
    });
  }
  await context.handler.handle(req, res, route);
}

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { ApiError, PROFILE_PATHS, type ProfileKind } from '@switchyard/protocol';
import type { Logger } from 'pino';
import type { CacheHandler } from './cache-handler.ts';
import { checkAdminToken, cpuProfileSeconds, reserveProfile } from './diagnostics/profile-response.ts';
import { sendError } from './errors.ts';
import { resolveRoute } from './route.ts';
import type { ProxyMetrics } from './stats.ts';
import type { Upstream } from './upstreams.ts';

export interface ProxyServerContext {
  upstreams: ReadonlyMap<string, Upstream>;
  handler: CacheHandler;
  metrics: ProxyMetrics;
  logger: Logger;
  /** The sha256 of the admin token (`--admin-token-file`), which may take profiles; null: nobody may. */
  adminTokenSha256: Buffer | null;
  /** Where a heap snapshot passes through on its way out: the cache's own scratch directory. */
  scratchDir: string;
}

const PROFILE_KINDS = new Map<string, ProfileKind>(
  Object.entries(PROFILE_PATHS).map(([kind, path]) => [path, kind as ProfileKind]),
);

/**
 * The HTTP front: `/metrics`, `/_stats` and `/_profile/…` are the proxy's own; every other path
 * starts with the name of an upstream. Plain node:http, so bodies stream straight between files,
 * sockets and the origin.
 */
export function createProxyServer(context: ProxyServerContext): Server {
  const server = createServer((req, res) => {
    timeRoute(req, res, context);
    handle(req, res, context).catch((error: Error) => {
      context.logger.error({ err: error, url: req.url }, 'request failed');
      sendError(res, 500, 'internal', 'the proxy failed to answer this request', {});
    });
  });
  server.keepAliveTimeout = 65_000;
  return server;
}

/** Times the request under its route (an upstream is `/<name>/*`) once its answer is done or cut off. */
function timeRoute(req: IncomingMessage, res: ServerResponse, context: ProxyServerContext): void {
  const started = performance.now();
  const path = (req.url ?? '/').split('?')[0] as string;
  const upstream = /^\/([^/]+)\//.exec(path)?.[1];
  const kind = PROFILE_KINDS.get(path);
  const route =
    path === '/metrics' || path === '/_stats' || kind
      ? path
      : upstream !== undefined && context.upstreams.has(upstream)
        ? `/${upstream}/*`
        : 'unmatched';
  res.once('close', () => {
    context.metrics.routes.observe({
      method: req.method ?? 'GET',
      route,
      status: res.statusCode,
      seconds: (performance.now() - started) / 1000,
      longLived: kind !== undefined,
    });
  });
}

async function handle(req: IncomingMessage, res: ServerResponse, context: ProxyServerContext): Promise<void> {
  const target = req.url ?? '/';
  const [path = '/', query = ''] = target.split('?', 2);
  const kind = PROFILE_KINDS.get(path);
  if (kind) return profile(req, res, context, kind, new URLSearchParams(query));
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

async function profile(
  req: IncomingMessage,
  res: ServerResponse,
  context: ProxyServerContext,
  kind: ProfileKind,
  query: URLSearchParams,
): Promise<void> {
  try {
    if (req.method !== 'POST') throw new ApiError('invalid-request', `a profile is taken with POST, not ${req.method}`);
    checkAdminToken(req.headers.authorization, context.adminTokenSha256);
    const seconds = kind === 'cpu' ? cpuProfileSeconds(query) : 0;
    const capture = reserveProfile({ kind, seconds, service: 'proxy', scratchDir: context.scratchDir });
    await capture.send(res);
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    sendError(res, error.status, error.code, error.message, (error.details ?? {}) as Record<string, unknown>);
  }
}

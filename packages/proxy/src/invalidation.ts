import type { IncomingHttpHeaders } from 'node:http';
import type { Route } from './route.ts';

/** RFC 9110 §9.2.1: GET, HEAD, OPTIONS and TRACE are the safe methods it defines. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);

/**
 * The paths (below the route's upstream) whose stored responses an answer to an unsafe request
 * invalidates (RFC 9111 §4.4): "A cache MUST invalidate the target URI ... when it receives a
 * non-error status code in response to an unsafe request method (including methods whose safety
 * is unknown)." It "MAY invalidate other URIs ... In particular, the URI(s) in the Location and
 * Content-Location response header fields (if present) are candidates for invalidation ...
 * However, a cache MUST NOT trigger an invalidation under these conditions if the origin ... of the
 * URI to be invalidated differs from that of the target URI". "A "non-error response" is one with a
 * 2xx (Successful) or 3xx (Redirection) status code." A URI outside the upstream's base path is
 * nothing this upstream's entries hold.
 */
export function invalidatedPaths(
  method: string,
  status: number,
  route: Route,
  responseHeaders: IncomingHttpHeaders,
): string[] {
  if (SAFE_METHODS.has(method) || status < 200 || status >= 400) return [];
  const basePath = new URL(route.upstream.base).pathname.replace(/\/$/, '');
  const paths = new Set([route.path]);
  for (const reference of [responseHeaders.location, responseHeaders['content-location']]) {
    if (reference === undefined) continue;
    let uri: URL;
    try {
      uri = new URL(reference, route.target);
    } catch {
      continue;
    }
    if (uri.origin !== route.target.origin || !uri.pathname.startsWith(`${basePath}/`)) continue;
    paths.add(`${uri.pathname.slice(basePath.length)}${uri.search}`);
  }
  return [...paths];
}

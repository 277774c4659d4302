import type { IncomingHttpHeaders } from 'node:http';
import CachePolicy from 'http-cache-semantics';

/**
 * The RFC 9111 rules, from http-cache-semantics, as a shared cache applies them. Content-addressed
 * entries are the exception: their bytes are checked against the digest in their URL, so once stored
 * they are fresh for ever.
 */
export { CachePolicy };

export interface PolicyResponse {
  status: number;
  headers: IncomingHttpHeaders;
}

/**
 * The request as the rules see it: the path below the upstream and the upstream's host, so that one
 * object has one identity whatever name the client used to reach the proxy.
 */
export function policyRequest(
  method: string,
  path: string,
  headers: IncomingHttpHeaders,
  upstreamHost: string,
): CachePolicy.HttpRequest {
  return { method, url: path, headers: { ...headers, host: upstreamHost } };
}

export function createPolicy(request: CachePolicy.HttpRequest, response: PolicyResponse): CachePolicy {
  return new CachePolicy(request, response, { shared: true });
}

/** Only complete 200 responses are kept: a partial or error body is never worth a disk entry. */
export function isStorable(policy: CachePolicy, response: PolicyResponse): boolean {
  return response.status === 200 && policy.storable() && response.headers.vary?.trim() !== '*';
}

export function isFresh(policy: CachePolicy, request: CachePolicy.HttpRequest, immutable: boolean): boolean {
  return immutable || policy.satisfiesWithoutRevalidation(request);
}

/** How the origin failed: unreachable (no answer at all) or answering with a 5xx. */
export type UpstreamFailure = 'unreachable' | 'error-status';

/**
 * Whether a stale entry may stand in for an origin that failed. An explicit `stale-if-error=N` allows
 * it for N seconds past expiry; without it a disconnected cache may still serve stale (RFC 9111
 * §4.2.4), but a 5xx answer is not a disconnection. `must-revalidate`, `proxy-revalidate`, `no-cache`
 * and `s-maxage` forbid it outright.
 */
export function staleUsableOnError(policy: CachePolicy, failure: UpstreamFailure): boolean {
  const directives = parseCacheControl(policy.responseHeaders()['cache-control']);
  if (['must-revalidate', 'proxy-revalidate', 'no-cache', 's-maxage'].some((name) => directives.has(name))) {
    return false;
  }
  const window = directives.get('stale-if-error');
  if (window !== undefined) return policy.maxAge() + (Number(window) || 0) > policy.age();
  return failure === 'unreachable';
}

function parseCacheControl(header: string | string[] | undefined): Map<string, string> {
  const directives = new Map<string, string>();
  const text = Array.isArray(header) ? header.join(',') : (header ?? '');
  for (const part of text.split(',')) {
    const [name, value = ''] = part.trim().split('=', 2);
    if (name) directives.set(name.toLowerCase(), value.replace(/^"|"$/g, ''));
  }
  return directives;
}

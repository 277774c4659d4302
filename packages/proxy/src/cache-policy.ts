import type { IncomingHttpHeaders } from 'node:http';
import { type Directives, deltaSeconds, parseDirectives } from './directives.ts';
import { currentAge, freshnessLifetime, isHeuristicallyCacheable } from './freshness.ts';
import type { StoredResponse } from './stored-response.ts';
import { varyNames } from './vary.ts';

/**
 * The RFC 9111 rules a shared cache applies: what may be stored, and when a stored response may be
 * used without asking the origin. Content-addressed entries are the exception: their bytes are
 * checked against the digest in their URL, so once stored they are fresh for ever.
 *
 * Written here rather than with http-cache-semantics, which this cache used before: it matches
 * directive names case-sensitively (`No-Store`, `Private` and `MaX-AgE` are not seen), refuses to
 * reuse a fresh response that says `must-revalidate` or `proxy-revalidate` (they only matter once it
 * is stale), stores only a fixed list of statuses, and takes a malformed `Expires` or `Age` for a
 * valid one.
 */

/**
 * Statuses a cache may only store if it understands them (RFC 9111 §3: "if the response status code
 * is 206 or 304 ... the cache understands the response status code"): this cache keeps whole
 * responses, and a 304 only ever freshens a stored one.
 */
const NOT_STORED = new Set([206, 304]);

/**
 * RFC 9111 §3: "A cache MUST NOT store a response to a request unless: the request method is
 * understood by the cache; the response status code is final ...; the no-store cache directive is
 * not present in the response ...; if the cache is shared: the private response directive is either
 * not present or allows a shared cache to store a modified response ...; if the cache is shared: the
 * Authorization header field is not present in the request ... or a response directive is present
 * that explicitly allows shared caching ...; and the response contains at least one of the
 * following: a public response directive ...; an Expires header field ...; a max-age response
 * directive ...; if the cache is shared: an s-maxage response directive ...; or a status code that
 * is defined as heuristically cacheable".
 *
 * Beyond that, this cache also refuses: the request's own `no-store` (§5.2.1.5), `Vary: *` (it
 * could never be chosen, §4.1), a qualified `private` (kept as if unqualified, as §5.2.2.7 notes is
 * common), and a `Set-Cookie` not marked `public`, so one user's cookie is never handed to another.
 */
export function isStorable(requestHeaders: IncomingHttpHeaders, stored: StoredResponse): boolean {
  const { status, headers } = stored;
  if (status < 200 || NOT_STORED.has(status)) return false;
  if (parseDirectives(requestHeaders['cache-control']).has('no-store')) return false;
  const directives = parseDirectives(headers['cache-control']);
  if (directives.has('no-store') || directives.has('private')) return false;
  if (requestHeaders.authorization !== undefined && !allowsSharingAuthorized(directives)) return false;
  if (varyNames(headers.vary).includes('*')) return false;
  if (headers['set-cookie'] !== undefined && !directives.has('public')) return false;
  return (
    directives.has('public') ||
    headers.expires !== undefined ||
    directives.has('max-age') ||
    directives.has('s-maxage') ||
    isHeuristicallyCacheable(status)
  );
}

/** RFC 9111 §3.5: "must-revalidate ..., public ..., and s-maxage". */
function allowsSharingAuthorized(directives: Directives): boolean {
  return directives.has('must-revalidate') || directives.has('public') || directives.has('s-maxage');
}

/**
 * RFC 9111 §4.2.4: "A cache MUST NOT generate a stale response if it is prohibited by an explicit
 * in-protocol directive (e.g., by a no-cache response directive, a must-revalidate response
 * directive, or an applicable s-maxage or proxy-revalidate response directive".
 */
function forbidsStale(directives: Directives): boolean {
  return ['must-revalidate', 'proxy-revalidate', 'no-cache', 's-maxage'].some((name) => directives.has(name));
}

/** How a stored response may answer a request. */
export type Reuse =
  /** Fresh: serve it. */
  | 'fresh'
  /** Stale within its `stale-while-revalidate` window: serve it, and revalidate it in the background. */
  | 'stale-while-revalidate'
  /** Ask the origin first. */
  | 'revalidate';

/**
 * RFC 9111 §4: a stored response is reused when (after its URI and Vary have matched) "the stored
 * response does not contain the no-cache directive ..., unless it is successfully validated", and
 * it is "fresh ..., or allowed to be served stale". The client's request directives are honoured as
 * §5.2.1 describes them (they are advisory): `no-cache` (and the older `Pragma: no-cache` when there
 * is no Cache-Control), `max-age`, `min-fresh` and `max-stale`; content-addressed entries are always
 * fresh.
 */
export function chooseReuse(
  stored: StoredResponse,
  requestHeaders: IncomingHttpHeaders,
  immutable: boolean,
  now: number,
): Reuse {
  // A content-addressed body cannot change, and its digest is checked: asking the origin again
  // could only bring the same bytes, so even a client's no-cache is not worth a request.
  if (immutable) return 'fresh';
  const request = parseDirectives(requestHeaders['cache-control']);
  const noCachePragma = requestHeaders['cache-control'] === undefined && /no-cache/i.test(requestHeaders.pragma ?? '');
  if (request.has('no-cache') || noCachePragma) return 'revalidate';
  const response = parseDirectives(stored.headers['cache-control']);
  if (response.has('no-cache')) return 'revalidate';
  const age = currentAge(stored, now);
  const lifetime = freshnessLifetime(stored);
  const maxAge = deltaSeconds(request.get('max-age'));
  if (maxAge !== undefined && age > maxAge) return 'revalidate';
  const minFresh = deltaSeconds(request.get('min-fresh'));
  if (minFresh !== undefined && lifetime - age < minFresh) return 'revalidate';
  if (lifetime > age) return 'fresh';
  if (forbidsStale(response)) return 'revalidate';
  // §5.2.1.2: "If no value is assigned to max-stale, then the client will accept a stale response of any age."
  if (request.has('max-stale')) {
    const maxStale = deltaSeconds(request.get('max-stale'));
    if (maxStale === undefined || age - lifetime <= maxStale) return 'fresh';
  }
  const window = deltaSeconds(response.get('stale-while-revalidate'));
  return window !== undefined && age - lifetime < window ? 'stale-while-revalidate' : 'revalidate';
}

/** How the origin failed: unreachable (no answer at all) or answering with a 5xx. */
export type UpstreamFailure = 'unreachable' | 'error-status';

/**
 * Whether a stale entry may stand in for an origin that failed. An explicit `stale-if-error=N`
 * (RFC 5861 §4) allows it for N seconds past expiry; without it a disconnected cache may still serve
 * stale (RFC 9111 §4.2.4), but a 5xx answer is not a disconnection. `must-revalidate`,
 * `proxy-revalidate`, `no-cache` and `s-maxage` forbid it outright.
 */
export function staleUsableOnError(stored: StoredResponse, failure: UpstreamFailure, now: number): boolean {
  const directives = parseDirectives(stored.headers['cache-control']);
  if (forbidsStale(directives)) return false;
  if (directives.has('stale-if-error')) {
    const window = deltaSeconds(directives.get('stale-if-error')) ?? 0;
    return currentAge(stored, now) < freshnessLifetime(stored) + window;
  }
  return failure === 'unreachable';
}

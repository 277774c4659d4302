import { deltaSeconds, parseDirectives } from './directives.ts';
import { parseHttpDate } from './http-date.ts';
import type { StoredResponse } from './stored-response.ts';

/**
 * Freshness lifetime and age (RFC 9111 §4.2), computed for a shared cache. Written here rather than
 * taken from http-cache-semantics, which parses `Expires`, `Date` and `Age` leniently (a malformed
 * date becomes some other date, `Age: 300.5` or `Age: -5` a number) and reads directive names
 * case-sensitively.
 */

/** RFC 9111 §4.2.2: "A typical setting of this fraction might be 10%." */
const HEURISTIC_FRACTION = 0.1;

/**
 * RFC 9110 §15.1: "Responses with status codes that are defined as heuristically cacheable (e.g.,
 * 200, 203, 204, 206, 300, 301, 308, 404, 405, 410, 414, and 501 in this specification) can be
 * reused by a cache with heuristic expiration unless otherwise indicated by the method definition
 * or explicit cache controls". 206 is left out: this cache stores whole responses only.
 */
const HEURISTICALLY_CACHEABLE = new Set([200, 203, 204, 300, 301, 308, 404, 405, 410, 414, 501]);

export function isHeuristicallyCacheable(status: number): boolean {
  return HEURISTICALLY_CACHEABLE.has(status);
}

/** The response's Date, or the time it was received when it has none or an invalid one. */
function dateValue(stored: StoredResponse): number {
  const date = stored.headers.date;
  return (date === undefined ? undefined : parseHttpDate(date, stored.responseTime)) ?? stored.responseTime;
}

/**
 * freshness_lifetime in seconds, by RFC 9111 §4.2.1's rules in order (the first that applies).
 * A directive whose argument is not delta-seconds makes the response stale: "Caches are encouraged
 * to consider responses that have invalid freshness information (e.g., a max-age directive with
 * non-integer content) to be stale."
 */
export function freshnessLifetime(stored: StoredResponse): number {
  const directives = parseDirectives(stored.headers['cache-control']);
  // "If the cache is shared and the s-maxage response directive ... is present, use its value"
  if (directives.has('s-maxage')) return deltaSeconds(directives.get('s-maxage')) ?? 0;
  // "If the max-age response directive ... is present, use its value"
  if (directives.has('max-age')) return deltaSeconds(directives.get('max-age')) ?? 0;
  // "If the Expires response header field ... is present, use its value minus the value of the Date
  // response header field". §5.3: "A cache recipient MUST interpret invalid date formats, especially
  // the value "0", as representing a time in the past (i.e., "already expired")."
  const expires = stored.headers.expires;
  if (expires !== undefined) {
    const expiresAt = parseHttpDate(expires, stored.responseTime);
    return expiresAt === undefined ? 0 : Math.max(0, (expiresAt - dateValue(stored)) / 1000);
  }
  // §4.2.2: "heuristics can only be used on responses without explicit freshness whose status codes
  // are defined as heuristically cacheable ... and on responses without explicit freshness that have
  // been marked as explicitly cacheable (e.g., with a public response directive)."
  if (!isHeuristicallyCacheable(stored.status) && !directives.has('public')) return 0;
  const lastModified = stored.headers['last-modified'];
  const modifiedAt = lastModified === undefined ? undefined : parseHttpDate(lastModified, stored.responseTime);
  if (modifiedAt === undefined) return 0;
  return Math.max(0, ((dateValue(stored) - modifiedAt) / 1000) * HEURISTIC_FRACTION);
}

/**
 * The Age field's value (RFC 9111 §5.1): "a cache encountering a message with a list-based Age field
 * value SHOULD use the first member of the field value, discarding subsequent ones. If the field
 * value (after discarding additional members, as per above) is invalid (e.g., it contains something
 * other than a non-negative integer), a cache SHOULD ignore the field."
 */
export function ageValue(age: string | undefined): number {
  const first = age?.split(',')[0]?.trim();
  return deltaSeconds(first) ?? 0;
}

/**
 * current_age in seconds (RFC 9111 §4.2.3), with corrected_age_value as corrected_initial_age, which
 * the RFC allows ("The corrected_age_value MAY be used as the corrected_initial_age"): the
 * apparent age would also count the origin's clock skew.
 */
export function currentAge(stored: StoredResponse, now: number): number {
  const responseDelay = Math.max(0, stored.responseTime - stored.requestTime) / 1000;
  const correctedInitialAge = ageValue(stored.headers.age) + responseDelay;
  const residentTime = Math.max(0, now - stored.responseTime) / 1000;
  return correctedInitialAge + residentTime;
}

import type { IncomingHttpHeaders } from 'node:http';
import { describe, expect, test } from 'vitest';
import { chooseReuse, isStorable, staleUsableOnError } from './cache-policy.ts';
import type { StoredResponse } from './stored-response.ts';

const NOW = Date.UTC(2026, 0, 1, 12, 0, 0);

/** A response received at NOW. */
function response(headers: IncomingHttpHeaders, status = 200): StoredResponse {
  return { status, headers: { date: new Date(NOW).toUTCString(), ...headers }, requestTime: NOW, responseTime: NOW };
}

describe('what is stored (RFC 9111 §3)', () => {
  test('a public or max-age 200 is; no-store, private and Vary: * are not', () => {
    for (const cc of ['max-age=60', 'public']) expect(isStorable({}, response({ 'cache-control': cc }))).toBe(true);
    for (const cc of ['no-store', 'private, max-age=60']) {
      expect(isStorable({}, response({ 'cache-control': cc }))).toBe(false);
    }
    expect(isStorable({}, response({ 'cache-control': 'max-age=60', vary: 'Accept, *' }))).toBe(false);
  });

  // §5.2: "Cache directives are identified by a token, to be compared case-insensitively"
  test('No-Store and Private are recognised in any case', () => {
    expect(isStorable({}, response({ 'cache-control': 'No-Store, max-age=60' }))).toBe(false);
    expect(isStorable({}, response({ 'cache-control': 'PRIVATE, max-age=60' }))).toBe(false);
  });

  // "the response contains at least one of the following: ... an Expires header field ...; a
  // max-age response directive ...; if the cache is shared: an s-maxage response directive" — of
  // any final status.
  test('a final response with explicit freshness, whatever its status', () => {
    for (const status of [201, 302, 303, 307, 403, 500, 503]) {
      expect(isStorable({}, response({ 'cache-control': 'max-age=60' }, status))).toBe(true);
      expect(isStorable({}, response({ expires: 'Thu, 01 Dec 2094 16:00:00 GMT' }, status))).toBe(true);
      expect(isStorable({}, response({}, status))).toBe(false);
    }
  });

  // "or a status code that is defined as heuristically cacheable"; RFC 9110 §15.1: "(e.g., 200, 203,
  // 204, 206, 300, 301, 308, 404, 405, 410, 414, and 501 in this specification)"
  test('a heuristically cacheable status without any', () => {
    for (const status of [200, 203, 204, 300, 301, 308, 404, 405, 410, 414, 501]) {
      expect(isStorable({}, response({}, status))).toBe(true);
    }
  });

  // "if the response status code is 206 or 304, or the must-understand cache directive ... is
  // present: the cache understands the response status code": this cache keeps whole responses.
  test('not a 206 or a 304', () => {
    expect(isStorable({}, response({ 'cache-control': 'max-age=60' }, 206))).toBe(false);
    expect(isStorable({}, response({ 'cache-control': 'max-age=60' }, 304))).toBe(false);
  });

  // "if the cache is shared: the Authorization header field is not present in the request ... or a
  // response directive is present that explicitly allows shared caching"; §3.5: "must-revalidate
  // ..., public ..., and s-maxage"
  test('an answer to a request with Authorization only when it says public, s-maxage or must-revalidate', () => {
    const authorized = { authorization: 'Bearer t' };
    expect(isStorable(authorized, response({ 'cache-control': 'max-age=60' }))).toBe(false);
    for (const cc of ['public, max-age=60', 's-maxage=60', 'max-age=60, Must-Revalidate']) {
      expect(isStorable(authorized, response({ 'cache-control': cc }))).toBe(true);
    }
  });

  // §5.2.1.5: "The no-store request directive indicates that a cache MUST NOT store any part of
  // either this request or any response to it."
  test('not when the request says no-store', () => {
    expect(isStorable({ 'cache-control': 'no-store' }, response({ 'cache-control': 'max-age=60' }))).toBe(false);
  });

  test('a Set-Cookie only when marked public', () => {
    expect(isStorable({}, response({ 'cache-control': 'max-age=60', 'set-cookie': ['a=b'] }))).toBe(false);
    expect(isStorable({}, response({ 'cache-control': 'public, max-age=60', 'set-cookie': ['a=b'] }))).toBe(true);
  });
});

describe('reuse (RFC 9111 §4)', () => {
  test('fresh by max-age, in any case', () => {
    expect(chooseReuse(response({ 'cache-control': 'MaX-AgE=3600' }), {}, false, NOW + 60_000)).toBe('fresh');
    expect(chooseReuse(response({ 'cache-control': 'max-age=60' }), {}, false, NOW + 120_000)).toBe('revalidate');
  });

  test('content-addressed entries are fresh for ever, whatever the client asks', () => {
    expect(chooseReuse(response({ 'cache-control': 'max-age=60' }), {}, true, NOW + 120_000)).toBe('fresh');
    expect(chooseReuse(response({ 'cache-control': 'no-cache' }), { 'cache-control': 'no-cache' }, true, NOW)).toBe(
      'fresh',
    );
  });

  // §5.2.2.2: "The must-revalidate response directive indicates that once the response has become
  // stale, a cache MUST NOT reuse that response to satisfy another request until it has been
  // successfully validated by the origin". Until then it is fresh like any other.
  test('must-revalidate and proxy-revalidate only matter once stale', () => {
    for (const cc of ['max-age=600, must-revalidate', 'max-age=600, proxy-revalidate']) {
      expect(chooseReuse(response({ 'cache-control': cc }), {}, false, NOW + 60_000)).toBe('fresh');
      expect(chooseReuse(response({ 'cache-control': cc }), {}, false, NOW + 660_000)).toBe('revalidate');
    }
  });

  // §4: "the stored response does not contain the no-cache directive ..., unless it is successfully
  // validated"; §5.2.2.4: "the response MUST NOT be used to satisfy any other request without
  // forwarding it for validation and receiving a successful response"
  test('no-cache in the response, in any case, forces revalidation', () => {
    expect(chooseReuse(response({ 'cache-control': 'max-age=600, No-CaChE' }), {}, false, NOW)).toBe('revalidate');
  });

  // §5.2.1.4: "The no-cache request directive indicates that the client prefers a stored response
  // not be used to satisfy the request without successful validation on the origin server."
  test('no-cache in the request, in any case, asks the origin', () => {
    const fresh = response({ 'cache-control': 'max-age=600' });
    expect(chooseReuse(fresh, { 'cache-control': 'NO-CACHE' }, false, NOW)).toBe('revalidate');
    expect(chooseReuse(fresh, { pragma: 'no-cache' }, false, NOW)).toBe('revalidate');
  });

  // §5.2.1.1: "The max-age request directive indicates that the client prefers a response whose age
  // is less than or equal to the specified number of seconds."; §5.2.1.3: "the client wants a
  // response that will still be fresh for at least the specified number of seconds."
  test("the client's max-age and min-fresh", () => {
    const fresh = response({ 'cache-control': 'max-age=600' });
    expect(chooseReuse(fresh, { 'cache-control': 'max-age=30' }, false, NOW + 60_000)).toBe('revalidate');
    expect(chooseReuse(fresh, { 'cache-control': 'min-fresh=580' }, false, NOW + 60_000)).toBe('revalidate');
    expect(chooseReuse(fresh, { 'cache-control': 'min-fresh=500' }, false, NOW + 60_000)).toBe('fresh');
  });

  // §5.2.1.2: "If a value is present, then the client is willing to accept a response that has
  // exceeded its freshness lifetime by no more than the specified number of seconds."
  test("the client's max-stale, unless the response forbids stale use", () => {
    const stale = response({ 'cache-control': 'max-age=60' });
    expect(chooseReuse(stale, { 'cache-control': 'max-stale=120' }, false, NOW + 120_000)).toBe('fresh');
    expect(chooseReuse(stale, { 'cache-control': 'max-stale=30' }, false, NOW + 120_000)).toBe('revalidate');
    const mustRevalidate = response({ 'cache-control': 'max-age=60, must-revalidate' });
    expect(chooseReuse(mustRevalidate, { 'cache-control': 'max-stale' }, false, NOW + 120_000)).toBe('revalidate');
  });

  // RFC 5861 §3: "When present in an HTTP response, the stale-while-revalidate Cache-Control
  // extension indicates that caches MAY serve the response it appears in after it becomes stale, up
  // to the indicated number of seconds." and "If delta-seconds passes without the cached entity
  // being revalidated, it SHOULD NOT continue to be served stale, absent other information."
  test('stale-while-revalidate: stale use within the window only', () => {
    const swr = response({ 'cache-control': 'max-age=60, stale-while-revalidate=30' });
    expect(chooseReuse(swr, {}, false, NOW + 30_000)).toBe('fresh');
    expect(chooseReuse(swr, {}, false, NOW + 80_000)).toBe('stale-while-revalidate');
    expect(chooseReuse(swr, {}, false, NOW + 100_000)).toBe('revalidate');
  });

  // RFC 9111 §4.2.4: "A cache MUST NOT generate a stale response if it is prohibited by an explicit
  // in-protocol directive (e.g., by a no-cache response directive, a must-revalidate response
  // directive, or an applicable s-maxage or proxy-revalidate response directive".
  test('stale-while-revalidate yields to must-revalidate, proxy-revalidate and s-maxage', () => {
    for (const cc of ['must-revalidate', 'proxy-revalidate', 's-maxage=60']) {
      const stored = response({ 'cache-control': `max-age=60, stale-while-revalidate=30, ${cc}` });
      expect(chooseReuse(stored, {}, false, NOW + 80_000)).toBe('revalidate');
    }
  });
});

describe('stale on error', () => {
  const stale = (cc: string) => response({ 'cache-control': cc, age: '120' });

  test('allowed when the origin is unreachable, not for its 5xx answers', () => {
    expect(staleUsableOnError(stale('max-age=60'), 'unreachable', NOW)).toBe(true);
    expect(staleUsableOnError(stale('max-age=60'), 'error-status', NOW)).toBe(false);
  });

  // RFC 5861 §4: "Its value indicates the upper limit to staleness; when the cached response is more
  // stale than the indicated amount, the cached response SHOULD NOT be used to satisfy the request"
  test('stale-if-error allows it for that long past expiry, for either failure', () => {
    expect(staleUsableOnError(stale('max-age=60, stale-if-error=600'), 'error-status', NOW)).toBe(true);
    expect(staleUsableOnError(stale('max-age=60, Stale-If-Error=600'), 'error-status', NOW)).toBe(true);
    expect(staleUsableOnError(stale('max-age=60, stale-if-error=10'), 'unreachable', NOW)).toBe(false);
  });

  // RFC 9111 §5.2.2.2: "if a cache is disconnected, the cache MUST generate an error response rather
  // than reuse the stale response."
  test('must-revalidate, proxy-revalidate, no-cache and s-maxage forbid it', () => {
    for (const cc of ['max-age=60, must-revalidate', 'max-age=60, Proxy-Revalidate', 'no-cache', 's-maxage=60']) {
      expect(staleUsableOnError(stale(cc), 'unreachable', NOW)).toBe(false);
    }
  });
});

import type { IncomingHttpHeaders } from 'node:http';
import { describe, expect, test } from 'vitest';
import { ageValue, currentAge, freshnessLifetime } from './freshness.ts';
import type { StoredResponse } from './stored-response.ts';

const RECEIVED = Date.UTC(2026, 0, 1, 12, 0, 0);
const DATE = new Date(RECEIVED).toUTCString();

function stored(headers: IncomingHttpHeaders, status = 200): StoredResponse {
  return { status, headers: { date: DATE, ...headers }, requestTime: RECEIVED, responseTime: RECEIVED };
}

describe('freshness lifetime (RFC 9111 §4.2.1)', () => {
  // "If the cache is shared and the s-maxage response directive ... is present, use its value, or
  // If the max-age response directive ... is present, use its value, or If the Expires response
  // header field ... is present, use its value minus the value of the Date response header field"
  test('s-maxage, then max-age, then Expires minus Date', () => {
    const inAnHour = new Date(RECEIVED + 3_600_000).toUTCString();
    expect(freshnessLifetime(stored({ 'cache-control': 's-maxage=10, max-age=20', expires: inAnHour }))).toBe(10);
    expect(freshnessLifetime(stored({ 'cache-control': 'max-age=20', expires: inAnHour }))).toBe(20);
    expect(freshnessLifetime(stored({ expires: inAnHour }))).toBe(3600);
  });

  // §5.2: "Cache directives are identified by a token, to be compared case-insensitively"
  test('directive names in any case', () => {
    expect(freshnessLifetime(stored({ 'cache-control': 'MaX-AgE=3600' }))).toBe(3600);
  });

  // §5.3: "If a response includes a Cache-Control header field with the max-age directive ..., a
  // recipient MUST ignore the Expires header field."
  test('max-age=0 is not passed over for a later Expires', () => {
    const inAnHour = new Date(RECEIVED + 3_600_000).toUTCString();
    expect(freshnessLifetime(stored({ 'cache-control': 'max-age=0', expires: inAnHour }))).toBe(0);
  });

  // §5.3: "A cache recipient MUST interpret invalid date formats, especially the value "0", as
  // representing a time in the past (i.e., "already expired")."
  test.each([
    'Thu, 01-Dec-2094 16:00:00 GMT',
    'Thu, 01 Dec 2094 6:00:00 GMT',
    'Thu 01 Dec 2094 16:00:00 GMT',
    'Thu, 01 Dec 2094 16:00:00 GMT, Thu, 01 Dec 2094 16:00:00 GMT',
    '0',
  ])('an invalid Expires (%s) is already expired', (expires) => {
    expect(freshnessLifetime(stored({ expires }))).toBe(0);
  });

  // §4.2.1: "Caches are encouraged to consider responses that have invalid freshness information
  // (e.g., a max-age directive with non-integer content) to be stale."
  test('a max-age that is not delta-seconds is stale', () => {
    expect(freshnessLifetime(stored({ 'cache-control': 'max-age=1.5e3' }))).toBe(0);
  });
});

describe('heuristic freshness (RFC 9111 §4.2.2)', () => {
  const lastModified = new Date(RECEIVED - 10 * 3_600_000).toUTCString();

  // "If the response has a Last-Modified header field ..., caches are encouraged to use a heuristic
  // expiration value that is no more than some fraction of the interval since that time. A typical
  // setting of this fraction might be 10%."
  test('a tenth of the time since Last-Modified, for a heuristically cacheable status', () => {
    expect(freshnessLifetime(stored({ 'last-modified': lastModified }))).toBe(3600);
    expect(freshnessLifetime(stored({ 'last-modified': lastModified }, 404))).toBe(3600);
  });

  // "heuristics can only be used on responses without explicit freshness whose status codes are
  // defined as heuristically cacheable ... and on responses without explicit freshness that have
  // been marked as explicitly cacheable (e.g., with a public response directive)."
  test('not for other statuses, unless marked public', () => {
    expect(freshnessLifetime(stored({ 'last-modified': lastModified }, 302))).toBe(0);
    expect(freshnessLifetime(stored({ 'last-modified': lastModified, 'cache-control': 'public' }, 302))).toBe(3600);
  });
});

describe('age (RFC 9111 §4.2.3, §5.1)', () => {
  // §5.1: "a cache encountering a message with a list-based Age field value SHOULD use the first
  // member of the field value, discarding subsequent ones. If the field value (after discarding
  // additional members, as per above) is invalid (e.g., it contains something other than a
  // non-negative integer), a cache SHOULD ignore the field."
  test('Age is a non-negative integer, its first member, or ignored', () => {
    expect(ageValue('300')).toBe(300);
    expect(ageValue('10, 300')).toBe(10);
    for (const invalid of ['-5', '300.5', '1e3', '300 s', '', undefined]) expect(ageValue(invalid)).toBe(0);
  });

  // "corrected_age_value = age_value + response_delay" and "current_age = corrected_initial_age + resident_time"
  test('Age plus the response delay plus the time resident here', () => {
    const response: StoredResponse = {
      status: 200,
      headers: { age: '100' },
      requestTime: RECEIVED - 2000,
      responseTime: RECEIVED,
    };
    expect(currentAge(response, RECEIVED + 30_000)).toBe(132);
  });
});

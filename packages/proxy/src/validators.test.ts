import type { IncomingHttpHeaders } from 'node:http';
import { describe, expect, test } from 'vitest';
import type { StoredResponse } from './stored-response.ts';
import { clientConditionHolds, conditionalHeaders, notModifiedSelects } from './validators.ts';

const RECEIVED = Date.UTC(2026, 0, 1, 12, 0, 0);
const LAST_MODIFIED = 'Thu, 01 Jan 2026 10:00:00 GMT';

function stored(headers: IncomingHttpHeaders, status = 200): StoredResponse {
  return { status, headers, requestTime: RECEIVED, responseTime: RECEIVED };
}

describe('revalidation requests (RFC 9111 §4.3.1)', () => {
  // The cache "MUST send the relevant entity tags ... if the entity tags were provided in the stored
  // response(s) being validated" and "SHOULD send the Last-Modified value (using If-Modified-Since)
  // if the request is not for a subrange, a single stored response is being validated, and that
  // response contains a Last-Modified value."
  test('the stored ETag in If-None-Match, its Last-Modified in If-Modified-Since', () => {
    expect(conditionalHeaders(stored({ etag: '"v1"', 'last-modified': LAST_MODIFIED }))).toEqual({
      'if-none-match': '"v1"',
      'if-modified-since': LAST_MODIFIED,
    });
    expect(conditionalHeaders(stored({}))).toEqual({});
  });
});

describe('which stored response a 304 freshens (RFC 9111 §4.3.4)', () => {
  const withTag = stored({ etag: '"v1"', 'last-modified': LAST_MODIFIED });
  const askedWithTag = conditionalHeaders(withTag);

  // "If the new response contains one or more strong validators ..., then each of those strong
  // validators identifies a selected representation for update. ... If none of the initial set
  // contains at least one of the same strong validators, then the cache MUST NOT use the new
  // response to update any stored responses."
  test('a strong ETag selects only a stored response with that same strong ETag', () => {
    expect(notModifiedSelects(withTag, { etag: '"v1"' }, askedWithTag)).toBe(true);
    expect(notModifiedSelects(withTag, { etag: '"v2"' }, askedWithTag)).toBe(false);
    expect(notModifiedSelects(stored({ etag: 'W/"v1"' }), { etag: '"v1"' }, {})).toBe(false);
  });

  // "If the new response contains no strong validators but does contain one or more weak
  // validators, and those validators correspond to one of the initial set's stored responses, then
  // the most recent of those matching stored responses is identified for update."
  test('weak validators select the stored response they correspond to', () => {
    expect(notModifiedSelects(withTag, { etag: 'W/"v1"' }, askedWithTag)).toBe(true);
    expect(notModifiedSelects(withTag, { 'last-modified': LAST_MODIFIED }, askedWithTag)).toBe(true);
    expect(notModifiedSelects(withTag, { 'last-modified': 'Fri, 02 Jan 2026 10:00:00 GMT' }, askedWithTag)).toBe(false);
  });

  // "If the new response does not include any form of validator ..., and there is only one stored
  // response in the initial set, and that stored response also lacks a validator, then that stored
  // response is identified for update."
  test('a 304 without validators selects a stored response without any', () => {
    expect(notModifiedSelects(stored({}), {}, {})).toBe(true);
  });

  // The revalidation named only this stored response's validators, so a 304 (RFC 9110 §13.1.2: "the
  // condition is false if one of the listed tags matches the entity tag of the selected
  // representation") can only be about it, whether or not the origin repeats them.
  test('a 304 without validators selects the stored response the revalidation asked about', () => {
    expect(notModifiedSelects(withTag, { 'cache-control': 'max-age=60' }, askedWithTag)).toBe(true);
    const datedOnly = stored({ 'last-modified': LAST_MODIFIED });
    expect(notModifiedSelects(datedOnly, {}, conditionalHeaders(datedOnly))).toBe(true);
    expect(notModifiedSelects(withTag, {}, { 'if-none-match': '"other"' })).toBe(false);
  });
});

describe("a client's conditions answered from a stored response (RFC 9111 §4.3.2)", () => {
  const fresh = stored({ etag: '"v1"', 'last-modified': LAST_MODIFIED, date: 'Thu, 01 Jan 2026 12:00:00 GMT' });

  // RFC 9110 §13.1.2: "A recipient MUST use the weak comparison function when comparing entity tags
  // for If-None-Match"
  test('If-None-Match, weakly, from a list, or *', () => {
    expect(clientConditionHolds({ 'if-none-match': 'W/"v1"' }, fresh)).toBe(true);
    expect(clientConditionHolds({ 'if-none-match': '"a,b", "v1"' }, fresh)).toBe(true);
    expect(clientConditionHolds({ 'if-none-match': '*' }, fresh)).toBe(true);
    expect(clientConditionHolds({ 'if-none-match': '"v0"' }, fresh)).toBe(false);
  });

  // RFC 9110 §13.1.3: "If the selected representation's last modification date is earlier or equal
  // to the date provided in the field value, the condition is false."
  test('If-Modified-Since against Last-Modified', () => {
    expect(clientConditionHolds({ 'if-modified-since': LAST_MODIFIED }, fresh)).toBe(true);
    expect(clientConditionHolds({ 'if-modified-since': 'Thu, 01 Jan 2026 11:00:00 GMT' }, fresh)).toBe(true);
    expect(clientConditionHolds({ 'if-modified-since': 'Thu, 01 Jan 2026 09:00:00 GMT' }, fresh)).toBe(false);
  });

  // RFC 9111 §4.3.2: "If-None-Match takes precedence over If-Modified-Since"
  test('If-None-Match takes precedence', () => {
    expect(clientConditionHolds({ 'if-none-match': '"v0"', 'if-modified-since': LAST_MODIFIED }, fresh)).toBe(false);
  });

  // RFC 9110 §13.1.3: "A recipient MUST ignore the If-Modified-Since header field if the received
  // field value is not a valid HTTP-date, the field value has more than one member"
  test('an If-Modified-Since that is no HTTP-date is ignored', () => {
    expect(clientConditionHolds({ 'if-modified-since': 'Thu, 01-Jan-2026 11:00:00 GMT' }, fresh)).toBe(false);
    expect(clientConditionHolds({ 'if-modified-since': `${LAST_MODIFIED}, ${LAST_MODIFIED}` }, fresh)).toBe(false);
  });

  // RFC 9111 §4.3.2: "If a request contains an If-Modified-Since header field and the Last-Modified
  // header field is not present in a stored response, a cache SHOULD use the stored response's Date
  // field value (or, if no Date field is present, the time that the stored response was received)"
  test('without Last-Modified, the Date, or the time it was received', () => {
    const dated = stored({ date: 'Thu, 01 Jan 2026 12:00:00 GMT' });
    expect(clientConditionHolds({ 'if-modified-since': 'Thu, 01 Jan 2026 12:00:00 GMT' }, dated)).toBe(true);
    expect(clientConditionHolds({ 'if-modified-since': 'Thu, 01 Jan 2026 11:59:59 GMT' }, dated)).toBe(false);
    expect(clientConditionHolds({ 'if-modified-since': 'Thu, 01 Jan 2026 12:00:00 GMT' }, stored({}))).toBe(true);
  });

  // RFC 9111 §4.3.2: "If a cache receives a request that can be satisfied by reusing a stored 200
  // (OK) or 206 (Partial Content) response"
  test('only for a stored 200', () => {
    expect(clientConditionHolds({ 'if-none-match': '*' }, stored({ etag: '"v1"' }, 404))).toBe(false);
  });
});

import { describe, expect, test } from 'vitest';
import { freshened, headersToServe, receivedResponse } from './stored-response.ts';

const RECEIVED = Date.UTC(2026, 0, 1, 12, 0, 0);

describe('storing a response', () => {
  // RFC 9111 §3.1: "The Connection header field and fields whose names are listed in it are
  // required by Section 7.6.1 of [HTTP] to be removed before forwarding the message. This MAY be
  // implemented by doing so before storage."
  test('hop-by-hop fields are not kept', () => {
    const stored = receivedResponse(
      200,
      { connection: 'close, x-hop', 'x-hop': '1', 'keep-alive': 'timeout=5', etag: '"v1"' },
      {},
      RECEIVED,
      RECEIVED,
    );
    expect(Object.keys(stored.headers).sort()).toEqual(['date', 'etag']);
  });

  // RFC 9110 §6.6.1: "A recipient with a clock that receives a response message without a Date
  // header field MUST record the time it was received and append a corresponding Date header field
  // to the message's header section if it is cached or forwarded downstream."
  test('a Date is added when the origin sent none', () => {
    expect(receivedResponse(200, {}, {}, RECEIVED, RECEIVED).headers.date).toBe('Thu, 01 Jan 2026 12:00:00 GMT');
  });

  // RFC 9111 §4.2.1: "When there is more than one value present for a given directive (e.g., two
  // Expires header field lines ...), either the first occurrence should be used or the response
  // should be considered stale."
  test('several Expires lines are kept as the list they make, which is no date', () => {
    const expires = ['Thu, 01 Dec 2094 16:00:00 GMT', 'Thu, 01 Dec 2094 16:00:00 GMT'];
    const stored = receivedResponse(200, { expires: expires[0] }, { expires }, RECEIVED, RECEIVED);
    expect(stored.headers.expires).toBe(expires.join(', '));
  });
});

describe('freshening with a 304 (RFC 9111 §3.2, §4.3.4)', () => {
  const stored = receivedResponse(
    200,
    {
      etag: '"v1"',
      'cache-control': 'max-age=0',
      'content-length': '5',
      'content-encoding': 'gzip',
      age: '50',
      'x-old': 'kept',
    },
    {},
    RECEIVED,
    RECEIVED,
  );

  // §3.2: "the cache MUST add each header field in the provided response to the stored response,
  // replacing field values that are already present, with the following exceptions: ... Header
  // fields that the cache's stored response depends upon ... The Content-Length header field."
  test("the 304's fields are added or replace the stored ones, except those the body depends on", () => {
    const later = RECEIVED + 60_000;
    const update = freshened(
      stored,
      { 'cache-control': 'max-age=600', 'x-new': 'added', 'content-length': '0', 'content-encoding': 'br' },
      {},
      later,
      later,
    );
    expect(update.headers).toMatchObject({
      etag: '"v1"',
      'cache-control': 'max-age=600',
      'x-old': 'kept',
      'x-new': 'added',
      'content-length': '5',
      'content-encoding': 'gzip',
    });
    expect(update.responseTime).toBe(later);
    expect(update.status).toBe(200);
  });

  test("the stored Age goes: the response's age starts again from its validation", () => {
    const later = RECEIVED + 60_000;
    expect(freshened(stored, {}, {}, later, later).headers.age).toBeUndefined();
    expect(freshened(stored, { age: '7' }, {}, later, later).headers.age).toBe('7');
  });

  // RFC 9111 §4: "When a stored response is used to satisfy a request without validation, a cache
  // MUST generate an Age header field ..., replacing any present in the response with a value equal
  // to the stored response's current_age"
  test('served with its current age', () => {
    expect(headersToServe(stored, RECEIVED + 30_000).age).toBe('80');
  });
});

import { describe, expect, test } from 'vitest';
import { invalidatedPaths } from './invalidation.ts';
import type { Route } from './route.ts';

const route: Route = {
  upstream: { name: 'origin', base: 'http://origin.test:8080/base' },
  path: '/items/1?x=1',
  target: new URL('http://origin.test:8080/base/items/1?x=1'),
};

describe('invalidation (RFC 9111 §4.4)', () => {
  // "A cache MUST invalidate the target URI ... when it receives a non-error status code in response
  // to an unsafe request method (including methods whose safety is unknown)." and "A "non-error
  // response" is one with a 2xx (Successful) or 3xx (Redirection) status code."
  test('the target URI, after a 2xx or 3xx to an unsafe method', () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'PURGE']) {
      expect(invalidatedPaths(method, 204, route, {})).toEqual(['/items/1?x=1']);
    }
    expect(invalidatedPaths('POST', 303, route, {})).toEqual(['/items/1?x=1']);
    expect(invalidatedPaths('POST', 404, route, {})).toEqual([]);
    expect(invalidatedPaths('DELETE', 500, route, {})).toEqual([]);
    for (const method of ['GET', 'HEAD', 'OPTIONS', 'TRACE'])
      expect(invalidatedPaths(method, 200, route, {})).toEqual([]);
  });

  // "In particular, the URI(s) in the Location and Content-Location response header fields (if
  // present) are candidates for invalidation ... However, a cache MUST NOT trigger an invalidation
  // under these conditions if the origin ... of the URI to be invalidated differs from that of the
  // target URI"
  test('Location and Content-Location on the same origin, relative or absolute', () => {
    expect(
      invalidatedPaths('POST', 201, route, {
        location: '/base/items/2',
        'content-location': 'http://origin.test:8080/base/items?page=1',
      }),
    ).toEqual(['/items/1?x=1', '/items/2', '/items?page=1']);
    expect(invalidatedPaths('POST', 201, route, { location: '3' })).toEqual(['/items/1?x=1', '/items/3']);
  });

  test('not on another origin, nor outside the upstream', () => {
    for (const location of [
      'http://elsewhere.test/base/items/2',
      'https://origin.test:8080/base/items/2',
      '/other/2',
    ]) {
      expect(invalidatedPaths('POST', 201, route, { location })).toEqual(['/items/1?x=1']);
    }
  });
});

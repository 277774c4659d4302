import { expect, test } from 'vitest';
import { resolveRoute } from './route.ts';
import { parseUpstream, upstreamsByName } from './upstreams.ts';

const upstreams = upstreamsByName([
  parseUpstream('artifacts=http://coordinator:7420'),
  parseUpstream('tools=https://tools.example.org/mirror'),
]);

test('the first segment names the upstream; the rest, query included, goes to it as sent', () => {
  const route = resolveRoute('/artifacts/api/v1/blobs/sha256/ab?x=1', upstreams);
  expect(route).toMatchObject({ path: '/api/v1/blobs/sha256/ab?x=1', upstream: { name: 'artifacts' } });
  expect('target' in route && route.target.href).toBe('http://coordinator:7420/api/v1/blobs/sha256/ab?x=1');
  const tools = resolveRoute('/tools/sha512/cd', upstreams);
  expect('target' in tools && tools.target.href).toBe('https://tools.example.org/mirror/sha512/cd');
});

test('an upstream alone maps to its root', () => {
  expect(resolveRoute('/artifacts', upstreams)).toMatchObject({ path: '/' });
  expect(resolveRoute('/artifacts?q', upstreams)).toMatchObject({ path: '/?q' });
});

test('an unknown or missing name is reported', () => {
  expect(resolveRoute('/nope/x', upstreams)).toEqual({ unknown: 'nope' });
  expect(resolveRoute('/', upstreams)).toEqual({ unknown: '' });
  expect(resolveRoute('http://elsewhere/x', upstreams)).toEqual({ unknown: '' });
});

test('a path that climbs out of the base path is refused', () => {
  expect(resolveRoute('/tools/../../etc/passwd', upstreams)).toEqual({ escapes: '/../../etc/passwd' });
  expect(resolveRoute('/tools/%2e%2e/x', upstreams)).toEqual({ escapes: '/%2e%2e/x' });
  expect(resolveRoute('/tools/a/../b', upstreams)).toMatchObject({ path: '/a/../b' });
});

import { describe, expect, test } from 'vitest';
import { InvalidUpstreamError, parseUpstream, upstreamsByName } from './upstreams.ts';

describe('parseUpstream', () => {
  test('takes name=url and drops a trailing slash from the base', () => {
    expect(parseUpstream('artifacts=http://coordinator:7420')).toEqual({
      name: 'artifacts',
      base: 'http://coordinator:7420',
    });
    expect(parseUpstream('tools=https://tools.example.org/mirror/')).toEqual({
      name: 'tools',
      base: 'https://tools.example.org/mirror',
    });
  });

  test.each([
    ['artifacts', /name=url/],
    ['=http://x', /name=url/],
    ['a b=http://x', /cannot name an upstream/],
    ['metrics=http://x', /cannot name an upstream/],
    ['_stats=http://x', /cannot name an upstream/],
    ['tools=ftp://x', /http:\/\/ or https:\/\//],
    ['tools=not a url', /http:\/\/ or https:\/\//],
    ['tools=http://x/?q=1', /without query/],
  ])('refuses "%s"', (text, message) => {
    expect(() => parseUpstream(text)).toThrow(InvalidUpstreamError);
    expect(() => parseUpstream(text)).toThrow(message);
  });

  test('a name given twice is refused', () => {
    expect(() => upstreamsByName([parseUpstream('a=http://x'), parseUpstream('a=http://y')])).toThrow(/given twice/);
  });
});

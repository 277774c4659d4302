import { describe, expect, test } from 'vitest';
import { deltaSeconds, parseDirectives } from './directives.ts';

describe('Cache-Control (RFC 9111 §5.2)', () => {
  // "Cache directives are identified by a token, to be compared case-insensitively"
  test('directive names are compared case-insensitively', () => {
    const directives = parseDirectives('MaX-AgE=3600, No-CaChE, PUBLIC');
    expect([...directives]).toEqual([
      ['max-age', '3600'],
      ['no-cache', ''],
      ['public', ''],
    ]);
  });

  // "and have an optional argument that can use both token and quoted-string syntax. For the
  // directives defined below that define arguments, recipients ought to accept both forms"
  test('an argument may be a token or a quoted-string, which may hold commas', () => {
    const directives = parseDirectives('max-age="60", no-cache="set-cookie, x-private", private');
    expect(directives.get('max-age')).toBe('60');
    expect(directives.get('no-cache')).toBe('set-cookie, x-private');
    expect(directives.has('private')).toBe(true);
    expect(directives.has('x-private"')).toBe(false);
  });

  // RFC 9110 §5.3: several field lines are one list.
  test('several field lines make one list', () => {
    expect([...parseDirectives(['max-age=60', 's-maxage=30'])]).toEqual([
      ['max-age', '60'],
      ['s-maxage', '30'],
    ]);
  });

  // RFC 9111 §4.2.1: "When there is more than one value present for a given directive (e.g., two
  // Expires header field lines or multiple Cache-Control: max-age directives), either the first
  // occurrence should be used or the response should be considered stale."
  test('the first occurrence of a repeated directive is used', () => {
    expect(parseDirectives('max-age=60, max-age=3600').get('max-age')).toBe('60');
  });

  test('empty members and whitespace are skipped', () => {
    expect([...parseDirectives(' , no-store ,,  public ')]).toEqual([
      ['no-store', ''],
      ['public', ''],
    ]);
  });
});

describe('delta-seconds (RFC 9111 §1.2.2)', () => {
  // "The delta-seconds rule specifies a non-negative integer, representing time in seconds."
  test('only a non-negative integer', () => {
    expect(deltaSeconds('0')).toBe(0);
    expect(deltaSeconds('3600')).toBe(3600);
    for (const invalid of ['', '-1', '1.5', '60s', ' 60', undefined]) expect(deltaSeconds(invalid)).toBeUndefined();
  });

  // "If a cache receives a delta-seconds value greater than the greatest integer it can represent,
  // or if any of its subsequent calculations overflows, the cache MUST consider the value to be
  // 2147483648 (2^31) or the greatest positive integer it can conveniently represent."
  test('values past 2^31 are 2^31', () => {
    expect(deltaSeconds('99999999999999999999999')).toBe(2 ** 31);
  });
});

import { describe, expect, test } from 'vitest';
import { sameSelection, selectingValue, varyNames } from './vary.ts';

describe('Vary (RFC 9111 §4.1)', () => {
  test('names are lower-cased, trimmed and listed once', () => {
    expect(varyNames('Accept-Encoding, accept-encoding ,User-Agent')).toEqual(['accept-encoding', 'user-agent']);
    expect(varyNames(['Accept', 'Origin'])).toEqual(['accept', 'origin']);
    expect(varyNames(undefined)).toEqual([]);
  });

  // "The header fields from two requests are defined to match if and only if those in the first
  // request can be transformed to those in the second request by applying any of the following:
  // adding or removing whitespace, where allowed in the header field's syntax; combining multiple
  // header field lines with the same field name"
  test('whitespace where the syntax allows it, and several lines, do not change the selection', () => {
    const names = ['accept-encoding', 'accept'];
    const first = { 'accept-encoding': ['gzip,deflate'], accept: ['text/html;q=0.9'] };
    const spaced = { 'accept-encoding': ['  gzip ,  deflate '], accept: ['text/html ; q=0.9'] };
    const lines = { 'accept-encoding': ['gzip', 'deflate'], accept: ['text/html;q=0.9'] };
    expect(sameSelection(names, first, spaced)).toBe(true);
    expect(sameSelection(names, first, lines)).toBe(true);
    expect(sameSelection(names, first, { ...first, 'accept-encoding': ['gzip'] })).toBe(false);
  });

  test('whitespace inside a quoted string is part of the value', () => {
    expect(selectingValue(['x; a="b , c"'])).toBe('x;a="b , c"');
    expect(selectingValue(['x; a="b , c"'])).not.toBe(selectingValue(['x; a="b,c"']));
  });

  // "If (after any normalization that might take place) a header field is absent from a request, it
  // can only match another request if it is also absent there."
  test('an absent field matches only an absent field, not an empty one', () => {
    expect(selectingValue(undefined)).toBeUndefined();
    expect(sameSelection(['origin'], {}, { origin: [''] })).toBe(false);
    expect(sameSelection(['origin'], {}, {})).toBe(true);
  });
});

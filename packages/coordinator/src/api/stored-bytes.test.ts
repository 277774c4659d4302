import { describe, expect, it } from 'vitest';
import { storedBytesAnswer } from './stored-bytes.ts';

const bytes = { size: 1000, etag: '"abc"' };
const get = (headers: Record<string, string> = {}) => ({ method: 'GET', headers });

describe('storedBytesAnswer', () => {
  it('serves the bytes, whole or the Range asked for, from the coordinator when the store has no URL', () => {
    expect(storedBytesAnswer(get(), bytes, false)).toEqual({
      kind: 'bytes',
      status: 200,
      start: 0,
      end: 999,
      read: true,
    });
    expect(storedBytesAnswer(get({ range: 'bytes=100-199' }), bytes, false)).toEqual({
      kind: 'bytes',
      status: 206,
      start: 100,
      end: 199,
      read: true,
    });
    // If-Range naming another version: the whole body.
    expect(storedBytesAnswer(get({ range: 'bytes=100-199', 'if-range': '"other"' }), bytes, false)).toMatchObject({
      status: 200,
    });
  });

  it('redirects a GET for bytes, Range or not, when the store has a URL', () => {
    expect(storedBytesAnswer(get(), bytes, true)).toEqual({ kind: 'redirect' });
    expect(storedBytesAnswer(get({ range: 'bytes=100-199' }), bytes, true)).toEqual({ kind: 'redirect' });
  });

  it('answers 304, 416 and HEAD itself whatever the store', () => {
    expect(storedBytesAnswer(get({ 'if-none-match': '"abc"' }), bytes, true)).toEqual({ kind: 'not-modified' });
    expect(storedBytesAnswer(get({ range: 'bytes=5000-' }), bytes, true)).toEqual({ kind: 'unsatisfiable' });
    expect(storedBytesAnswer({ method: 'HEAD', headers: {} }, bytes, true)).toEqual({
      kind: 'bytes',
      status: 200,
      start: 0,
      end: 999,
      read: false,
    });
    expect(storedBytesAnswer(get(), { size: 0, etag: '"e"' }, false)).toMatchObject({ read: false });
  });
});

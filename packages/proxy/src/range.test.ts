import { expect, test } from 'vitest';
import { chooseRange } from './range.ts';

const validators = { etag: '"v1"', lastModified: 'Wed, 21 Oct 2026 07:28:00 GMT' };

test('one byte range is served as asked, clipped to the object', () => {
  expect(chooseRange(100, { range: 'bytes=10-19' }, validators)).toEqual({ kind: 'partial', start: 10, end: 19 });
  expect(chooseRange(100, { range: 'bytes=90-' }, validators)).toEqual({ kind: 'partial', start: 90, end: 99 });
  expect(chooseRange(100, { range: 'bytes=-5' }, validators)).toEqual({ kind: 'partial', start: 95, end: 99 });
  expect(chooseRange(100, { range: 'bytes=50-500' }, validators)).toEqual({ kind: 'partial', start: 50, end: 99 });
});

test('a range past the end is unsatisfiable', () => {
  expect(chooseRange(100, { range: 'bytes=100-' }, validators)).toEqual({ kind: 'unsatisfiable' });
});

test('no range, several ranges, nonsense or another unit get the whole object', () => {
  expect(chooseRange(100, {}, validators)).toEqual({ kind: 'full' });
  expect(chooseRange(100, { range: 'bytes=0-1,50-60' }, validators)).toEqual({ kind: 'full' });
  expect(chooseRange(100, { range: 'bytes=x' }, validators)).toEqual({ kind: 'full' });
  expect(chooseRange(100, { range: 'items=0-1' }, validators)).toEqual({ kind: 'full' });
});

test('If-Range must name this version, strongly', () => {
  expect(chooseRange(100, { range: 'bytes=0-9', 'if-range': '"v1"' }, validators)).toMatchObject({ kind: 'partial' });
  expect(chooseRange(100, { range: 'bytes=0-9', 'if-range': validators.lastModified }, validators)).toMatchObject({
    kind: 'partial',
  });
  expect(chooseRange(100, { range: 'bytes=0-9', 'if-range': '"v2"' }, validators)).toEqual({ kind: 'full' });
  expect(chooseRange(100, { range: 'bytes=0-9', 'if-range': 'W/"v1"' }, validators)).toEqual({ kind: 'full' });
});

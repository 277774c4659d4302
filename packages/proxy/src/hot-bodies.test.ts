import { expect, test } from 'vitest';
import { HotBodies } from './hot-bodies.ts';

interface Entry {
  id: string;
}

const stamp = { size: 40, mtimeMs: 1_000 };
const bytes = (size: number, fill = 1) => Buffer.alloc(size, fill);

test('holds bodies up to the bound on their bytes, least recently used let go first', () => {
  const hot = new HotBodies<Entry>({ maxBytes: 100, maxBodyBytes: 50 });
  const [a, b, c] = [{ id: 'a' }, { id: 'b' }, { id: 'c' }];
  hot.set(a, stamp, bytes(40));
  hot.set(b, stamp, bytes(40));
  expect(hot.get(a, stamp)).toBeDefined();
  hot.set(c, stamp, bytes(40));
  expect(hot.heldBytes).toBe(80);
  expect(hot.get(b, stamp)).toBeUndefined();
  expect(hot.get(a, stamp)).toBeDefined();
  expect(hot.get(c, stamp)).toBeDefined();
});

test('a body bigger than the limit per body is never held', () => {
  const hot = new HotBodies<Entry>({ maxBytes: 100, maxBodyBytes: 50 });
  const big = { id: 'big' };
  expect(hot.admits(51)).toBe(false);
  hot.set(big, { size: 51, mtimeMs: 1_000 }, bytes(51));
  expect(hot.get(big, { size: 51, mtimeMs: 1_000 })).toBeUndefined();
  expect(hot.heldBytes).toBe(0);
});

test('a bound of 0 holds nothing', () => {
  const hot = new HotBodies<Entry>({ maxBytes: 0, maxBodyBytes: 50 });
  const entry = { id: 'a' };
  expect(hot.admits(1)).toBe(false);
  hot.set(entry, stamp, bytes(40));
  expect(hot.get(entry, stamp)).toBeUndefined();
});

test('an entry replaced by another of the same id never gets the old bytes', () => {
  const hot = new HotBodies<Entry>({ maxBytes: 100, maxBodyBytes: 50 });
  const replaced = { id: 'same' };
  const replacement = { id: 'same' };
  hot.set(replaced, stamp, bytes(40, 1));
  expect(hot.get(replacement, stamp)).toBeUndefined();
  hot.set(replacement, stamp, bytes(40, 2));
  expect(hot.get(replacement, stamp)?.[0]).toBe(2);
});

test('a body whose file changed since it was read is dropped', () => {
  const hot = new HotBodies<Entry>({ maxBytes: 100, maxBodyBytes: 50 });
  const entry = { id: 'a' };
  hot.set(entry, stamp, bytes(40));
  expect(hot.get(entry, { size: 40, mtimeMs: 2_000 })).toBeUndefined();
  expect(hot.get(entry, stamp)).toBeUndefined();
  expect(hot.heldBytes).toBe(0);
  hot.set(entry, stamp, bytes(40));
  expect(hot.get(entry, { size: 41, mtimeMs: 1_000 })).toBeUndefined();
});

test('a deleted entry is let go', () => {
  const hot = new HotBodies<Entry>({ maxBytes: 100, maxBodyBytes: 50 });
  const entry = { id: 'a' };
  hot.set(entry, stamp, bytes(40));
  hot.delete(entry);
  expect(hot.get(entry, stamp)).toBeUndefined();
  expect(hot.heldBytes).toBe(0);
});

import { describe, expect, it } from 'vitest';
import { cell, code, table } from './markdown.ts';
import { stalePages } from './stale-pages.ts';

describe('stalePages', () => {
  it('names pages that differ, are missing or are no longer generated; none when all match', () => {
    const generated = new Map([
      ['a.md', 'A\n'],
      ['b.md', 'B\n'],
      ['c.md', 'C\n'],
    ]);
    const committed = new Map([
      ['a.md', 'A\n'],
      ['b.md', 'old B\n'],
      ['z.md', 'Z\n'],
    ]);
    expect(stalePages(generated, committed)).toEqual([
      { file: 'b.md', why: 'differs' },
      { file: 'c.md', why: 'missing' },
      { file: 'z.md', why: 'not generated' },
    ]);
    expect(stalePages(generated, new Map(generated))).toEqual([]);
  });
});

describe('markdown', () => {
  it('keeps a value with pipes, line breaks or backticks in one cell', () => {
    expect(cell('a | b\nc')).toBe('a \\| b c');
    expect(code('a`b')).toBe('``a`b``');
    expect(table(['x', 'y'], [['1', '']])).toBe('| x | y |\n| --- | --- |\n| 1 | - |');
  });
});

import { describe, expect, it } from 'vitest';
import { extendRange, formatLineHash, parseLineHash } from './line-range.ts';

describe('line links', () => {
  it('reads one line and ranges, either way round', () => {
    expect(parseLineHash('#L120')).toEqual({ from: 120, to: 120 });
    expect(parseLineHash('#L120-L140')).toEqual({ from: 120, to: 140 });
    expect(parseLineHash('#L140-L120')).toEqual({ from: 120, to: 140 });
    expect(parseLineHash('L7-9')).toEqual({ from: 7, to: 9 });
  });

  it('ignores what is not a line link', () => {
    for (const hash of ['', '#', '#L', '#L0', '#top', '#L12-', '#Lx']) expect(parseLineHash(hash)).toBeNull();
  });

  it('writes what it reads', () => {
    expect(formatLineHash({ from: 5, to: 5 })).toBe('#L5');
    expect(formatLineHash({ from: 5, to: 9 })).toBe('#L5-L9');
    expect(parseLineHash(formatLineHash({ from: 120, to: 140 }))).toEqual({ from: 120, to: 140 });
  });

  it('extends a selection from its first line with shift', () => {
    expect(extendRange(null, 10, true)).toEqual({ from: 10, to: 10 });
    expect(extendRange({ from: 10, to: 10 }, 20, true)).toEqual({ from: 10, to: 20 });
    expect(extendRange({ from: 10, to: 20 }, 4, true)).toEqual({ from: 4, to: 10 });
    expect(extendRange({ from: 10, to: 20 }, 4, false)).toEqual({ from: 4, to: 4 });
  });
});

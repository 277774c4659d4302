import type { LogIndex, LogUpdate } from '@switchyard/protocol/browser';
import { describe, expect, it } from 'vitest';
import { applyLogUpdate, LiveLines } from './live-lines.ts';

const update = (from: number, lines: string[], rest: Partial<LogUpdate> = {}): LogUpdate => ({
  attempt: 1,
  from,
  lines,
  lineCount: from + lines.length - 1,
  sections: [],
  errors: [],
  errorsFrom: 0,
  errorsTruncated: false,
  complete: false,
  ...rest,
});

describe('LiveLines', () => {
  it('holds the lines sent, a growing last line replaced as it grows', () => {
    const live = new LiveLines();
    expect(live.line(1)).toBeUndefined();
    expect(live.holdsFrom(1)).toBe(false);
    live.put(5, ['five', 'six', 'sev']);
    live.put(7, ['seven', 'eight']);
    expect([4, 5, 6, 7, 8, 9].map((n) => live.line(n))).toEqual([
      undefined,
      'five',
      'six',
      'seven',
      'eight',
      undefined,
    ]);
    expect(live.holdsFrom(4)).toBe(false);
    expect(live.holdsFrom(5)).toBe(true);
    // A follower that started again from further back (a reconnection) replaces the run.
    live.put(2, ['two']);
    expect([2, 5].map((n) => live.line(n))).toEqual(['two', undefined]);
  });
});

describe('applyLogUpdate', () => {
  it("takes the update's counts and sections, and adds the error lines it found", () => {
    const index: LogIndex = {
      job: 7,
      attempt: 1,
      complete: false,
      lineCount: 3,
      sections: [],
      errors: [{ line: 2, text: 'FAIL a' }],
      errorsTruncated: false,
    };
    const next = applyLogUpdate(
      index,
      update(3, ['c', 'FAIL d'], { errors: [{ line: 4, text: 'FAIL d' }], errorsFrom: 1 }),
      7,
    );
    expect(next).toMatchObject({ lineCount: 4, complete: false });
    expect(next.errors.map((e) => e.line)).toEqual([2, 4]);
    // A new stream sends every error line again, from the first.
    const again = applyLogUpdate(next, update(4, ['FAIL d'], { errors: [{ line: 2, text: 'FAIL a' }] }), 7);
    expect(again.errors.map((e) => e.line)).toEqual([2]);
    // The first attempt's index (none yet) gives way to the attempt the follower found.
    expect(applyLogUpdate({ ...index, attempt: null }, update(1, ['a'], { attempt: 2 }), 7)).toMatchObject({
      attempt: 2,
      errors: [],
    });
  });
});

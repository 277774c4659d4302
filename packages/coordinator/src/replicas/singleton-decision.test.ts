import { describe, expect, it } from 'vitest';
import { decideSingleton } from './singleton-decision.ts';

const NOW = 1_000_000;
const held = (holder: string, term: number, expiresAt: number) => ({ holder, term, expiresAt });

describe('decideSingleton', () => {
  it('takes a singleton nobody ever held under term 1', () => {
    expect(decideSingleton(null, { holder: 'a', term: null }, NOW)).toEqual({ kind: 'acquire', term: 1 });
  });

  it('renews only the holder’s own unexpired term, up to its last millisecond', () => {
    expect(decideSingleton(held('a', 3, NOW), { holder: 'a', term: 3 }, NOW)).toEqual({ kind: 'renew' });
    expect(decideSingleton(held('a', 3, NOW + 5000), { holder: 'a', term: 3 }, NOW)).toEqual({ kind: 'renew' });
  });

  it('never renews by name alone: another holder, another term, or a holder that forgot its term', () => {
    const row = held('a', 3, NOW + 5000);
    for (const me of [
      { holder: 'b', term: 3 },
      { holder: 'a', term: 2 },
      { holder: 'a', term: null },
    ]) {
      expect(decideSingleton(row, me, NOW)).toEqual({ kind: 'held-elsewhere', by: row });
    }
  });

  it('takes over an expired lease under the next term, whoever asks, its last holder too', () => {
    const row = held('a', 3, NOW - 1);
    expect(decideSingleton(row, { holder: 'b', term: null }, NOW)).toEqual({ kind: 'acquire', term: 4 });
    // A holder paused past its lease does not get its old term back: what it did under it is fenced.
    expect(decideSingleton(row, { holder: 'a', term: 3 }, NOW)).toEqual({ kind: 'acquire', term: 4 });
  });
});

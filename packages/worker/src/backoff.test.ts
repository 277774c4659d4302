import { describe, expect, it } from 'vitest';
import { Backoff } from './backoff.ts';

describe('Backoff', () => {
  it('doubles from the initial delay up to the maximum, each delay jittered within its upper half', () => {
    const backoff = new Backoff({ initialMs: 250, maxMs: 10_000 });
    const ceilings = [250, 500, 1000, 2000, 4000, 8000, 10_000, 10_000];
    for (const ceiling of ceilings) {
      const delay = backoff.next();
      expect(delay).toBeGreaterThanOrEqual(ceiling / 2);
      expect(delay).toBeLessThanOrEqual(ceiling);
    }
  });

  it('starts over after reset()', () => {
    const backoff = new Backoff({ initialMs: 100, maxMs: 10_000 });
    for (let i = 0; i < 5; i++) backoff.next();
    backoff.reset();
    expect(backoff.next()).toBeLessThanOrEqual(100);
  });
});

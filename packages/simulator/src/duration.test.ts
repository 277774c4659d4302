import { describe, expect, it } from 'vitest';
import { runDurationMs } from './duration.ts';

const MINUTE = 60_000;
const build = { coldMinutes: 60, warmMinutes: 30 };

describe('run duration', () => {
  it('is minutes cold and warm_minutes warm, on a nominal worker', () => {
    expect(runDurationMs(build, false, 1, 0, 0.3)).toBe(60 * MINUTE);
    expect(runDurationMs(build, true, 1, 0, 0.3)).toBe(30 * MINUTE);
  });

  it('is divided by the worker speed', () => {
    expect(runDurationMs(build, false, 2, 0, 0.5)).toBe(30 * MINUTE);
    expect(runDurationMs(build, true, 0.6, 0, 0.5)).toBeCloseTo(50 * MINUTE);
  });

  it('varies by at most ± jitter, symmetric around the nominal time', () => {
    expect(runDurationMs(build, false, 1, 0.1, 0)).toBeCloseTo(54 * MINUTE);
    expect(runDurationMs(build, false, 1, 0.1, 0.5)).toBeCloseTo(60 * MINUTE);
    expect(runDurationMs(build, false, 1, 0.1, 0.999_999)).toBeLessThan(66 * MINUTE);
    expect(runDurationMs(build, false, 1, 0.1, 0.999_999)).toBeGreaterThan(65.99 * MINUTE);
  });
});

import { describe, expect, it } from 'vitest';
import { MEDIAN_SAMPLE, SPEED_SMOOTHING, speedAfterSuccess } from './learned-speed.ts';

describe('speedAfterSuccess', () => {
  it('starts at the run’s duration over the builder’s median, this run included', () => {
    expect(speedAfterSuccess(null, 50, [100, 100])).toBe(0.5);
    expect(speedAfterSuccess(null, 100, [])).toBe(1);
  });

  it('moves an earlier speed part of the way towards the new ratio', () => {
    expect(speedAfterSuccess(1, 200, [100, 100])).toBeCloseTo(1 + SPEED_SMOOTHING * (2 - 1));
  });

  it('measures against the newest runs only', () => {
    const newest = Array.from({ length: MEDIAN_SAMPLE - 1 }, () => 100);
    const older = Array.from({ length: 100 }, () => 10);
    expect(speedAfterSuccess(null, 100, [...newest, ...older])).toBe(1);
  });

  it('keeps the speed when there is nothing to measure against', () => {
    expect(speedAfterSuccess(0.8, 0, [])).toBe(0.8);
  });
});

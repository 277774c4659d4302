import { describe, expect, it } from 'vitest';
import { busyFactor, generatePushes, HOUR_MS } from './workload.ts';

const branch = (name: string, pushesPerHour: number) => ({ name, priority: 4, pushesPerHour, exact: false });

describe('pushes', () => {
  it('arrive as a Poisson process at pushes_per_hour', () => {
    const hours = 2000;
    const pushes = generatePushes({ seed: 1, durationHours: hours, busyHours: [], branches: [branch('main', 6)] });
    // 12,000 expected; the standard deviation of a Poisson count is √12,000 ≈ 110.
    expect(Math.abs(pushes.length - 12_000)).toBeLessThan(400);
    const gaps = pushes.slice(1).map((p, i) => p.at - (pushes[i]?.at as number));
    const mean = gaps.reduce((a, b) => a + b, 0) / gaps.length;
    const sd = Math.sqrt(gaps.reduce((a, g) => a + (g - mean) ** 2, 0) / gaps.length);
    // Exponential gaps: the standard deviation equals the mean.
    expect(sd / mean).toBeGreaterThan(0.95);
    expect(sd / mean).toBeLessThan(1.05);
  });

  it('come factor times as fast in busy hours, per branch, numbered in arrival order', () => {
    const pushes = generatePushes({
      seed: 2,
      durationHours: 24 * 100,
      busyHours: [{ from: 14, to: 22, factor: 3 }],
      branches: [branch('main', 2), branch('try', 4)],
    });
    const busy = pushes.filter((p) => busyFactor([{ from: 14, to: 22, factor: 3 }], p.at) === 3);
    // Per day: 8 busy hours at 3× against 16 quiet ones at 1×, so busy/quiet ≈ 24/16.
    expect(busy.length / (pushes.length - busy.length)).toBeGreaterThan(1.4);
    expect(busy.length / (pushes.length - busy.length)).toBeLessThan(1.6);
    const tries = pushes.filter((p) => p.branch === 'try').length;
    expect(tries / (pushes.length - tries)).toBeGreaterThan(1.9);
    expect(tries / (pushes.length - tries)).toBeLessThan(2.1);
    expect(pushes.map((p) => p.id)).toEqual(pushes.map((_, i) => i + 1));
    expect(pushes.every((p, i) => i === 0 || p.at >= (pushes[i - 1]?.at as number))).toBe(true);
  });

  it('stop at the scenario duration', () => {
    const pushes = generatePushes({ seed: 3, durationHours: 5, busyHours: [], branches: [branch('main', 50)] });
    expect(pushes.every((p) => p.at < 5 * HOUR_MS)).toBe(true);
  });
});

describe('busy hours', () => {
  it('apply from `from` up to `to`, wrapping midnight when from > to, first window first', () => {
    const windows = [
      { from: 22, to: 2, factor: 0.5 },
      { from: 14, to: 22, factor: 2.5 },
    ];
    const at = (hour: number) => busyFactor(windows, hour * HOUR_MS);
    expect([at(13.9), at(14), at(21.9), at(22), at(23.5), at(24 + 1), at(2), at(26)]).toEqual([
      1, 2.5, 2.5, 0.5, 0.5, 0.5, 1, 1,
    ]);
  });
});

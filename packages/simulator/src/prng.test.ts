import { describe, expect, it } from 'vitest';
import { parseScenario } from './load-scenario.ts';
import { exponential, seededRandom } from './prng.ts';
import { simulatePolicies } from './report.ts';

const draws = (seed: number, stream: string, n = 5) => {
  const random = seededRandom(seed, stream);
  return Array.from({ length: n }, random);
};

describe('seeded random numbers', () => {
  it('repeats for the same seed and stream, and differs for another seed or stream', () => {
    expect(draws(42, 'pushes:main')).toEqual(draws(42, 'pushes:main'));
    expect(draws(43, 'pushes:main')).not.toEqual(draws(42, 'pushes:main'));
    expect(draws(42, 'pushes:try')).not.toEqual(draws(42, 'pushes:main'));
  });

  it('is uniform in [0, 1)', () => {
    const values = draws(7, 'uniform', 100_000);
    expect(Math.min(...values)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...values)).toBeLessThan(1);
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    expect(mean).toBeCloseTo(0.5, 2);
    const deciles = new Array(10).fill(0);
    for (const v of values) deciles[Math.floor(v * 10)] += 1;
    for (const count of deciles) expect(Math.abs(count - 10_000)).toBeLessThan(500);
  });

  it('draws exponential gaps with the given mean', () => {
    const random = seededRandom(1, 'gaps');
    const gaps = Array.from({ length: 50_000 }, () => exponential(random, 10));
    expect(gaps.reduce((a, b) => a + b, 0) / gaps.length).toBeGreaterThan(9.8);
    expect(gaps.reduce((a, b) => a + b, 0) / gaps.length).toBeLessThan(10.2);
  });
});

describe('a whole simulation', () => {
  const scenario = (seed: number) =>
    parseScenario(
      'seed.yaml',
      `
seed: ${seed}
duration_hours: 12
branches:
  - { name: main, priority: 3, pushes_per_hour: 3 }
  - { name: try, priority: 5, pushes_per_hour: 4, exact: true }
workers:
  - { pool: linux, count: 4, speed: 1.0 }
  - { pool: linux, count: 3, speed: 0.6, exception_rate: 0.2 }
builders:
  - { name: build, pool: linux, minutes: 60, warm_minutes: 35 }
  - { name: talos, pool: linux, minutes: 20, after: build, coalesce: latest }
`,
    );

  it('gives the same report for the same seed, and another for another seed', () => {
    const first = JSON.stringify(simulatePolicies(scenario(42)));
    expect(JSON.stringify(simulatePolicies(scenario(42)))).toBe(first);
    expect(JSON.stringify(simulatePolicies(scenario(43)))).not.toBe(first);
  });
});

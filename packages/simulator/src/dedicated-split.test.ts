import { describe, expect, it } from 'vitest';
import { apportion, dedicatedSplit } from './dedicated-split.ts';
import { farmWorkers } from './farm-workers.ts';
import { parseScenario } from './load-scenario.ts';

describe('the dedicated split', () => {
  it('apportions by weight with the largest remainders, at least one each', () => {
    expect(apportion([6, 10], 30)).toEqual([11, 19]);
    expect(apportion([1, 1, 1], 10)).toEqual([4, 3, 3]);
    expect(apportion([0.1, 0.8, 0.4, 0.3, 1.6], 11)).toEqual([1, 3, 1, 1, 5]);
    expect(apportion([0, 0], 4)).toEqual([2, 2]);
    expect(apportion([100, 1, 1], 3)).toEqual([1, 1, 1]);
  });

  const scenario = parseScenario(
    'split.yaml',
    `
seed: 1
duration_hours: 1
branches: [{ name: main, pushes_per_hour: 6 }, { name: try, pushes_per_hour: 10 }, { name: release, pushes_per_hour: 0 }]
workers:
  - { pool: linux, name: fast, count: 10 }
  - { pool: linux, name: slow, count: 5, speed: 0.5 }
  - { pool: talos, count: 2 }
builders:
  - { name: build, pool: linux, minutes: 60 }
  - { name: talos, pool: talos, minutes: 20, after: build, branches: [main, try] }
`,
  );

  it('gives each branch of each pool its share, mixing the machine groups like the pool', () => {
    const split = dedicatedSplit(scenario, farmWorkers(scenario));
    const count = (group: string, branch: string) =>
      [...split].filter(([worker, b]) => worker.startsWith(`${group}-`) && b === branch).length;
    // linux: 15 workers for 6 : 10 : 0 pushes an hour, release still gets one.
    expect([count('fast', 'main') + count('slow', 'main'), count('fast', 'try') + count('slow', 'try')]).toEqual([
      5, 9,
    ]);
    expect(count('fast', 'release') + count('slow', 'release')).toBe(1);
    expect(count('slow', 'main')).toBeGreaterThanOrEqual(1);
    expect(count('slow', 'try')).toBeGreaterThanOrEqual(2);
    // talos runs on main and try only.
    expect([count('talos-3', 'main'), count('talos-3', 'try'), count('talos-3', 'release')]).toEqual([1, 1, 0]);
  });

  it('refuses a pool with fewer workers than branches using it', () => {
    const small = { ...scenario, workers: scenario.workers.map((w) => ({ ...w, count: 1 })) };
    expect(() => dedicatedSplit(small, farmWorkers(small))).toThrow(
      'the dedicated policy needs at least one worker of pool linux per branch using it: 2 worker(s) for 3 branches',
    );
  });
});

import { describe, expect, it } from 'vitest';
import { parseScenario } from './load-scenario.ts';
import { policyMetrics, quantile, summarise } from './metrics.ts';
import { simulate } from './simulation.ts';

const MINUTE = 60_000;

describe('summaries', () => {
  it('interpolate quantiles between neighbours', () => {
    expect(quantile([], 0.5)).toBeNull();
    expect(quantile([7], 0.9)).toBe(7);
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantile([0, 10], 0.9)).toBe(9);
    expect(summarise([5, 0, 0])).toEqual({ mean: 1.67, median: 0, p90: 4 });
    expect(summarise([])).toEqual({ mean: null, median: null, p90: null });
  });
});

describe('metrics of a run worked out by hand', () => {
  // One worker, one builder (10 min cold, 6 warm), no jitter; pushes at 0, 5 and 30 minutes.
  //   push 1: runs 0–10 (cold), waits 0, end-to-end 10
  //   push 2: pending from 5, runs 10–16 (warm: the worker last built main), waits 5, e2e 11
  //   push 3: runs 30–36 (warm), waits 0, e2e 6
  // Busy 22 of the hour's 60 worker-minutes.
  const scenario = parseScenario(
    'tiny.yaml',
    `
seed: 1
duration_hours: 1
jitter: 0
branches: [{ name: main, pushes_per_hour: 1 }]
workers: [{ pool: linux, count: 1 }]
builders: [{ name: build, pool: linux, minutes: 10, warm_minutes: 6 }]
`,
  );
  const pushes = [0, 5, 30].map((minute, i) => ({ id: i + 1, branch: 'main', at: minute * MINUTE }));

  it('gives the counts, utilisation, waits and end-to-end times', () => {
    for (const policy of ['dedicated', 'pooled-fifo', 'pooled-smart'] as const) {
      const metrics = policyMetrics(simulate(scenario, policy, pushes), ['main']);
      expect(metrics.overall).toEqual({
        jobs: 3,
        coalesced: 0,
        utilisation: 0.3667,
        wait_minutes: { mean: 1.67, median: 0, p90: 4 },
        e2e_minutes: { mean: 9, median: 10, p90: 10.8 },
      });
      expect(metrics.branches.main).toEqual(metrics.overall);
    }
  });

  it('counts only the scenario duration in utilisation, not the drain after it', () => {
    const late = [{ id: 1, branch: 'main', at: 55 * MINUTE }];
    expect(policyMetrics(simulate(scenario, 'pooled-smart', late), ['main']).overall.utilisation).toBe(
      Math.round((5 / 60) * 10_000) / 10_000,
    );
  });
});

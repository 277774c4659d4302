import type { Metrics } from '@switchyard/simulator';
import { describe, expect, test } from 'vitest';
import { formatSimulationReport } from './simulation-table.ts';
import { plainStyle } from './style.ts';

const metrics = (e2eMean: number, waitP90: number, coalesced = 0): Metrics => ({
  jobs: 40,
  coalesced,
  utilisation: 0.6234,
  wait_minutes: { mean: 2, median: 0, p90: waitP90 },
  e2e_minutes: { mean: e2eMean, median: 90, p90: 150 },
});

describe('formatSimulationReport', () => {
  test('prints a table per policy, a row per branch and one for all, then how pooled-smart compares', () => {
    const report = {
      policies: {
        'pooled-fifo': { overall: metrics(200, 30), branches: { main: metrics(200, 30) } },
        'pooled-smart': { overall: metrics(150, 24, 3), branches: { main: metrics(150, 24, 3) } },
      },
    };
    expect(formatSimulationReport(report, plainStyle).split('\n')).toEqual([
      'pooled-fifo',
      'BRANCH  JOBS  COALESCED  UTIL    WAIT MIN mean / median / p90  END-TO-END MIN mean / median / p90',
      'main    40    0          62.3 %  2.0 / 0.0 / 30.0              200.0 / 90.0 / 150.0',
      'all     40    0          62.3 %  2.0 / 0.0 / 30.0              200.0 / 90.0 / 150.0',
      '',
      'pooled-smart',
      'BRANCH  JOBS  COALESCED  UTIL    WAIT MIN mean / median / p90  END-TO-END MIN mean / median / p90',
      'main    40    3          62.3 %  2.0 / 0.0 / 24.0              150.0 / 90.0 / 150.0',
      'all     40    3          62.3 %  2.0 / 0.0 / 24.0              150.0 / 90.0 / 150.0',
      '',
      'pooled-smart vs pooled-fifo: mean end-to-end −25.0 % (150.0 vs 200.0 min), p90 wait −20.0 % (24.0 vs 30.0 min)',
    ]);
  });

  test('shows a dash for a branch without pushes and no comparison without pooled-smart', () => {
    const empty: Metrics = {
      jobs: 0,
      coalesced: 0,
      utilisation: 0,
      wait_minutes: { mean: null, median: null, p90: null },
      e2e_minutes: { mean: null, median: null, p90: null },
    };
    const text = formatSimulationReport({ policies: { dedicated: { overall: empty, branches: {} } } }, plainStyle);
    expect(text).toContain('all     0     0          0.0 %  – / – / –');
    expect(text).not.toContain(' vs ');
  });
});

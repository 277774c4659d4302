import type { JobSummary } from '@switchyard/protocol/browser';
import { describe, expect, it } from 'vitest';
import { builderSymbol, groupByBuilder } from './symbols.ts';

const job = (id: number, builder: string, state: JobSummary['state']): JobSummary => ({
  id,
  builder,
  state,
  attemptCount: 1,
});

describe('builder symbols', () => {
  it.each([
    ['test-unit', 'TU'],
    ['build-linux64', 'BL64'],
    ['lint', 'L'],
    ['mochitest_browser.chrome', 'MBC'],
    ['', '?'],
  ])('%s → %s', (builder, symbol) => {
    expect(builderSymbol(builder)).toBe(symbol);
  });
});

describe('groupByBuilder', () => {
  it('keeps the builders in order and a retrigger beside its first run', () => {
    const groups = groupByBuilder([
      job(1, 'build', 'success'),
      job(2, 'test', 'failure'),
      job(3, 'lint', 'success'),
      job(4, 'test', 'running'),
    ]);
    expect(groups.map((g) => [g.builder, g.symbol, g.jobs.map((j) => j.id)])).toEqual([
      ['build', 'B', [1]],
      ['test', 'T', [2, 4]],
      ['lint', 'L', [3]],
    ]);
  });
});

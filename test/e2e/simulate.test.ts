import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generatePushes, parseScenario } from '@switchyard/simulator';
import { afterAll, describe, expect, it } from 'vitest';
import { switchyardCommand } from '../helpers/processes.ts';

const SCENARIO = `
seed: 7
duration_hours: 8
busy_hours: { from: 2, to: 5, factor: 2 }
branches:
  - { name: release, priority: 0, pushes_per_hour: 0.5 }
  - { name: main, priority: 3, pushes_per_hour: 2 }
  - { name: try, priority: 5, pushes_per_hour: 3, exact: true }
workers:
  - { pool: build, count: 3, speed: 1.0 }
  - { pool: build, count: 3, speed: 0.6, exception_rate: 0.1 }
  - { pool: test, count: 4 }
builders:
  - { name: build, pool: build, minutes: 60, warm_minutes: 35 }
  - { name: test, pool: test, minutes: 25, after: build, coalesce: latest, coalesce_limit: 3 }
  - { name: talos, pool: test, minutes: 20, after: build, branches: [release, main], coalesce: latest }
`;

const POLICIES = ['dedicated', 'pooled-fifo', 'pooled-smart'];
const SUMMARY = { mean: expect.any(Number), median: expect.any(Number), p90: expect.any(Number) };
const METRICS = {
  jobs: expect.any(Number),
  coalesced: expect.any(Number),
  utilisation: expect.any(Number),
  wait_minutes: SUMMARY,
  e2e_minutes: SUMMARY,
};

describe('switchyard simulate', () => {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-simulate-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'scenario.yaml');
  writeFileSync(file, SCENARIO);

  it('prints one JSON object with every policy, overall and per branch, for every push', async () => {
    const { code, output } = await switchyardCommand(['simulate', '--scenario', file, '--json']);
    expect(code, output).toBe(0);
    const report = JSON.parse(output);
    expect(Object.keys(report)).toEqual(['policies']);
    expect(Object.keys(report.policies)).toEqual(POLICIES);

    const pushes = generatePushes(parseScenario(file, SCENARIO));
    const jobsOf = (branch: string) => pushes.filter((p) => p.branch === branch).length * (branch === 'try' ? 2 : 3);
    for (const policy of POLICIES) {
      const { overall, branches } = report.policies[policy];
      expect(overall).toEqual(METRICS);
      expect(Object.keys(branches)).toEqual(['release', 'main', 'try']);
      for (const [branch, metrics] of Object.entries(branches)) {
        expect(metrics).toEqual(METRICS);
        expect((metrics as { jobs: number }).jobs, `${policy} ${branch}`).toBe(jobsOf(branch));
      }
      expect(overall.jobs).toBe(jobsOf('release') + jobsOf('main') + jobsOf('try'));
      expect(overall.utilisation).toBeGreaterThan(0);
      expect(overall.utilisation).toBeLessThanOrEqual(1);
    }
    expect(report.policies['pooled-smart'].branches.try.coalesced).toBe(0);
    expect(report.policies['pooled-fifo'].overall.coalesced).toBe(0);
  });

  it('prints a table per policy for the chosen policies', async () => {
    const { code, output } = await switchyardCommand([
      'simulate',
      '--scenario',
      file,
      '--policy',
      'pooled-fifo',
      '--policy',
      'pooled-smart',
    ]);
    expect(code, output).toBe(0);
    expect(output).not.toContain('dedicated\n');
    expect(output).toMatch(/^pooled-fifo\nBRANCH +JOBS +COALESCED +UTIL/m);
    expect(output).toMatch(/^pooled-smart\n/m);
    expect(output).toMatch(/^all +\d+ +\d+ +\d+\.\d %/m);
    expect(output).toMatch(/^pooled-smart vs pooled-fifo: mean end-to-end [−+±][\d.]+ %/m);
  });

  it('names the file, the path and what was expected for a bad scenario', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, SCENARIO.replace('after: build, coalesce: latest, coalesce_limit: 3', 'after: biuld'));
    const { code, output } = await switchyardCommand(['simulate', '--scenario', bad]);
    expect(code).toBe(1);
    expect(output).toContain(`error: ${bad}: invalid configuration`);
    expect(output).toContain('builders[1].after: expected the name of a builder, got "biuld"');
  });
});

import { describe, expect, it } from 'vitest';
import { parseScenario } from './load-scenario.ts';
import { policyMetrics } from './metrics.ts';
import { simulate } from './simulation.ts';

const MINUTE = 60_000;
const at = (minutes: number[], branch = 'main') => minutes.map((m, i) => ({ id: i + 1, branch, at: m * MINUTE }));

function scenario(body: string) {
  return parseScenario('test.yaml', `seed: 5\nduration_hours: 2\njitter: 0\n${body}`);
}

describe('dependencies', () => {
  const farm = (buildFailureRate: number) =>
    scenario(`
branches: [{ name: main, pushes_per_hour: 1 }]
workers: [{ pool: linux, count: 2 }]
builders:
  - { name: build, pool: linux, minutes: 30, failure_rate: ${buildFailureRate} }
  - { name: test-a, pool: linux, minutes: 10, after: build }
  - { name: test-b, pool: linux, minutes: 20, after: build }
  - { name: report, pool: linux, minutes: 5, after: [test-a, test-b] }
`);

  it('start a job once everything it runs after has succeeded', () => {
    const record = simulate(farm(0), 'pooled-fifo', at([0]));
    const started = Object.fromEntries(record.attempts.map((a) => [a.builder, [a.start / MINUTE, a.end / MINUTE]]));
    expect(started).toEqual({ build: [0, 30], 'test-a': [30, 40], 'test-b': [30, 50], report: [50, 55] });
    expect(record.pushes).toEqual([{ branch: 'main', at: 0, doneAt: 55 * MINUTE }]);
    expect(record.jobs.map((j) => j.state)).toEqual(['success', 'success', 'success', 'success']);
  });

  it('skip everything after a failed job, and the push is done when the failure is', () => {
    const record = simulate(farm(1), 'pooled-smart', at([0]));
    expect(record.attempts.map((a) => a.builder)).toEqual(['build']);
    expect(record.jobs.map((j) => j.state)).toEqual(['failure', 'skipped', 'skipped', 'skipped']);
    expect(record.pushes[0]?.doneAt).toBe(30 * MINUTE);
  });

  it('create only the builders that run on the push’s branch', () => {
    const farm = scenario(`
branches: [{ name: main, pushes_per_hour: 1 }, { name: try, pushes_per_hour: 1 }]
workers: [{ pool: linux, count: 1 }]
builders:
  - { name: build, pool: linux, minutes: 10 }
  - { name: talos, pool: linux, minutes: 10, after: build, branches: [main] }
`);
    const record = simulate(farm, 'pooled-fifo', [...at([0], 'main'), { id: 2, branch: 'try', at: 60 * MINUTE }]);
    expect(record.attempts.map((a) => `${a.branch}/${a.builder}`)).toEqual(['main/build', 'main/talos', 'try/build']);
  });
});

describe('coalescing', () => {
  // One worker; four pushes a minute apart; each runs a 10-minute talos that coalesces.
  const farm = (branch = '{ name: main, pushes_per_hour: 1 }') =>
    scenario(`
branches: [${branch}]
workers: [{ pool: talos, count: 1 }]
builders: [{ name: talos, pool: talos, minutes: 10, coalesce: latest }]
`);

  it('runs the newest pending job for the older ones, which finish with it', () => {
    const record = simulate(farm(), 'pooled-smart', at([0, 1, 2, 3]));
    expect(record.attempts.map((a) => [a.start / MINUTE, a.end / MINUTE])).toEqual([
      [0, 10],
      [10, 20],
    ]);
    expect(record.jobs.map((j) => j.state)).toEqual(['success', 'coalesced', 'coalesced', 'success']);
    expect(record.pushes.map((p) => (p.doneAt - p.at) / MINUTE)).toEqual([10, 19, 18, 17]);
    const metrics = policyMetrics(record, ['main']);
    expect(metrics.overall.coalesced).toBe(2);
    expect(metrics.overall.jobs).toBe(4);
  });

  it('is off in the FIFO policies and for exact pushes', () => {
    const fifo = simulate(farm(), 'pooled-fifo', at([0, 1, 2, 3]));
    expect(fifo.jobs.every((j) => j.state === 'success')).toBe(true);
    expect(fifo.pushes.map((p) => (p.doneAt - p.at) / MINUTE)).toEqual([10, 19, 28, 37]);
    const exact = simulate(farm('{ name: main, pushes_per_hour: 1, exact: true }'), 'pooled-smart', at([0, 1, 2, 3]));
    expect(exact.jobs.every((j) => j.state === 'success')).toBe(true);
  });
});

describe('choosing the worker', () => {
  it('sends a build to the machine holding its warm object directory (pooled-smart)', () => {
    const farm = scenario(`
branches: [{ name: main, pushes_per_hour: 1 }, { name: try, pushes_per_hour: 1 }]
workers: [{ pool: linux, count: 2 }]
builders: [{ name: build, pool: linux, minutes: 30, warm_minutes: 10 }]
`);
    // Both branches build at once, then each again once both workers are free.
    const pushes = [
      { id: 1, branch: 'main', at: 0 },
      { id: 2, branch: 'try', at: 0 },
      { id: 3, branch: 'try', at: 40 * MINUTE },
      { id: 4, branch: 'main', at: 40 * MINUTE },
    ];
    const record = simulate(farm, 'pooled-smart', pushes);
    const firstWorker = new Map(record.attempts.slice(0, 2).map((a) => [a.branch, a.worker]));
    for (const attempt of record.attempts.slice(2)) {
      expect(attempt.worker).toBe(firstWorker.get(attempt.branch));
      expect(attempt.end - attempt.start).toBe(10 * MINUTE);
    }
  });

  it('learns each machine’s speed against the builder’s median, as the live coordinator does', () => {
    const farm = scenario(`
branches: [{ name: main, pushes_per_hour: 1 }]
workers:
  - { pool: linux, name: slow, count: 1, speed: 0.5 }
  - { pool: linux, name: nominal, count: 1 }
  - { pool: linux, name: fast, count: 1, speed: 2 }
builders: [{ name: build, pool: linux, minutes: 10 }]
`);
    // Three builds at a time keep every machine running: 5, 10 and 20 minutes, median 10.
    const rounds = Array.from({ length: 8 }, (_, i) => [30 * i, 30 * i, 30 * i]).flat();
    const { learnedSpeeds } = simulate(farm, 'pooled-smart', at(rounds));
    expect(learnedSpeeds['fast-1']).toBeCloseTo(0.5, 1);
    expect(learnedSpeeds['nominal-1']).toBeCloseTo(1, 1);
    expect(learnedSpeeds['slow-1']).toBeCloseTo(2, 1);
  });
});

describe('flaky workers', () => {
  const farm = scenario(`
branches: [{ name: main, pushes_per_hour: 1 }]
workers:
  - { pool: linux, name: broken, count: 1, exception_rate: 1 }
  - { pool: linux, name: good, count: 1 }
builders: [{ name: build, pool: linux, minutes: 10, max_attempts: 5 }]
`);
  const pushes = at([0, 0, 20, 40, 60, 80, 100, 120, 140, 160]);

  it('end attempts in exception and the job is retried, up to max_attempts', () => {
    const record = simulate(farm, 'pooled-fifo', pushes);
    const broken = record.attempts.filter((a) => a.worker === 'broken-1');
    expect(broken.length).toBeGreaterThan(0);
    expect(record.jobs.every((j) => j.state === 'success' || j.state === 'exception')).toBe(true);
    expect(record.attempts.length).toBeGreaterThan(record.jobs.length);
  });

  it('are benched with growing backoff under pooled-smart, so they take fewer attempts', () => {
    const benched = simulate(farm, 'pooled-smart', pushes).attempts.filter((a) => a.worker === 'broken-1');
    const unbenched = simulate(farm, 'pooled-fifo', pushes).attempts.filter((a) => a.worker === 'broken-1');
    expect(benched.length).toBeLessThan(unbenched.length);
    // After each exception it sits out 10 s, 20 s, 40 s, …: its attempts spread further and further apart.
    const gaps = benched.slice(1).map((a, i) => a.start - (benched[i]?.end as number));
    for (let i = 0; i < gaps.length; i++) expect(gaps[i]).toBeGreaterThanOrEqual(10_000 * 2 ** i);
  });
});

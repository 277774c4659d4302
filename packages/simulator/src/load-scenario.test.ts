import { ConfigError } from '@switchyard/coordinator/config/config-error';
import { describe, expect, it } from 'vitest';
import { loadScenarioFile, parseScenario } from './load-scenario.ts';

const ISSUE_EXAMPLE = `
seed: 42
duration_hours: 48
branches:
  - { name: main, priority: 3, pushes_per_hour: 6 }
  - { name: try, priority: 5, pushes_per_hour: 10 }
workers:
  - { pool: linux, count: 20, speed: 1.0 }   # speed 1.0 = nominal
  - { pool: linux, count: 10, speed: 0.6 }
builders:
  - { name: build, pool: linux, minutes: 60, warm_minutes: 35, prefer: fast }
  - { name: talos, pool: linux, minutes: 20, after: build, coalesce: latest }
`;

function problemsOf(text: string) {
  try {
    parseScenario('farm.yaml', text);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected the scenario to be refused');
}

describe('scenario files', () => {
  it('accept the example from the issue, with the documented defaults', () => {
    const scenario = parseScenario('issue.yaml', ISSUE_EXAMPLE);
    expect(scenario).toMatchObject({ seed: 42, durationHours: 48, jitter: 0.1, agingMinutes: 10, fitBand: 0.5 });
    expect(scenario.workers.map((w) => [w.name, w.count, w.speed, w.exceptionRate])).toEqual([
      ['linux-1', 20, 1, 0],
      ['linux-2', 10, 0.6, 0],
    ]);
    const [build, talos] = scenario.builders;
    expect(build).toMatchObject({ coldMinutes: 60, warmMinutes: 35, prefer: 'fast', coalesceLimit: null });
    expect(talos).toMatchObject({
      warmMinutes: 20,
      after: ['build'],
      prefer: 'slow',
      coalesceLimit: 8,
      maxAttempts: 3,
    });
  });

  it('accept every optional setting', () => {
    const scenario = parseScenario(
      'full.yaml',
      `
seed: 1
duration_hours: 24
jitter: 0.05
busy_hours: [{ from: 14, to: 22, factor: 2.5 }, { from: 23, to: 6, factor: 0.3 }]
scheduling: { aging_minutes: 5, fit_band: 2 }
branches:
  - { name: release/1.0, priority: 0, pushes_per_hour: 0.1 }
  - { name: try, pushes_per_hour: 3, exact: true }
workers:
  - { pool: build, name: ix, count: 4, speed: 1.5 }
  - { pool: test, count: 2, exception_rate: 0.1 }
builders:
  - { name: build, pool: build, minutes: 60, priority: -1, prefer: any, failure_rate: 0.05, max_attempts: 2 }
  - { name: test, pool: test, minutes: 20, after: [build], branches: [try], coalesce: latest, coalesce_limit: 3 }
`,
    );
    expect(scenario.branches).toEqual([
      { name: 'release/1.0', priority: 0, pushesPerHour: 0.1, exact: false },
      { name: 'try', priority: 4, pushesPerHour: 3, exact: true },
    ]);
    expect(scenario.busyHours).toHaveLength(2);
    expect(scenario.builders[1]).toMatchObject({ coalesceLimit: 3, branches: new Set(['try']) });
    expect(scenario.builders[0]).toMatchObject({
      priorityOffset: -1,
      prefer: 'any',
      failureRate: 0.05,
      maxAttempts: 2,
    });
  });

  it('order builders so that each comes after the builders it runs after', () => {
    const scenario = parseScenario(
      'order.yaml',
      `
seed: 1
duration_hours: 1
branches: [{ name: main, pushes_per_hour: 1 }]
workers: [{ pool: linux, count: 1 }]
builders:
  - { name: talos, pool: linux, minutes: 20, after: build }
  - { name: build, pool: linux, minutes: 60 }
`,
    );
    expect(scenario.builders.map((b) => b.name)).toEqual(['build', 'talos']);
  });

  it('name the path and what was expected for values of the wrong shape', () => {
    expect(
      problemsOf(`
seed: -1
duration_hours: 0
branches: [{ name: main, pushes_per_hour: "six" }]
workers: [{ pool: linux, count: 2, sped: 1 }]
builders: [{ name: build, pool: linux, minutes: 60, prefer: quick }]
`),
    ).toEqual([
      { path: 'seed', message: 'expected a number >= 0, got -1' },
      { path: 'duration_hours', message: 'expected a number > 0, got 0' },
      { path: 'branches[0].pushes_per_hour', message: 'expected a number, got "six"' },
      {
        path: 'workers[0].sped',
        message: 'unknown setting (check its spelling against docs/guide/scheduling.md#to-simulate-the-scheduler)',
      },
      { path: 'builders[0].prefer', message: 'expected one of "fast", "slow", "any", got "quick"' },
    ]);
    expect(problemsOf('seed: 1\n')).toEqual([
      { path: '', message: 'missing required settings `duration_hours`, `branches`, `workers`, `builders`' },
    ]);
  });

  it('name references that lead nowhere, duplicates and cycles', () => {
    expect(
      problemsOf(`
seed: 1
duration_hours: 1
busy_hours: { from: 9, to: 9, factor: 2 }
branches: [{ name: main, pushes_per_hour: 1 }, { name: main, pushes_per_hour: 2 }]
workers: [{ pool: linux, count: 1 }, { pool: linux, name: linux-1, count: 1 }]
builders:
  - { name: build, pool: mac, minutes: 60, warm_minutes: 90, coalesce_limit: 3 }
  - { name: test, pool: linux, minutes: 10, after: compile, branches: [trunk] }
  - { name: build, pool: linux, minutes: 10 }
`),
    ).toEqual([
      { path: 'branches[1].name', message: 'duplicate branch "main"' },
      { path: 'workers[1]', message: 'duplicate worker group name "linux-1" (set `name:`)' },
      { path: 'busy_hours', message: '`from` and `to` are the same hour: the window is empty' },
      { path: 'builders[0].pool', message: 'no workers in pool "mac" (pools with workers: linux)' },
      { path: 'builders[0].warm_minutes', message: 'expected at most `minutes` (60)' },
      { path: 'builders[0].coalesce_limit', message: 'only means something with `coalesce: latest`' },
      { path: 'builders[1].branches[0]', message: 'expected one of the branches (main), got "trunk"' },
      { path: 'builders[1].after', message: 'expected the name of a builder, got "compile"' },
      { path: 'builders[2].name', message: 'duplicate builder "build" (first at builders[0])' },
    ]);
    expect(
      problemsOf(`
seed: 1
duration_hours: 1
branches: [{ name: main, pushes_per_hour: 1 }, { name: try, pushes_per_hour: 1 }]
workers: [{ pool: linux, count: 1 }]
builders:
  - { name: a, pool: linux, minutes: 1, after: c }
  - { name: b, pool: linux, minutes: 1, after: a }
  - { name: c, pool: linux, minutes: 1, after: b }
  - { name: d, pool: linux, minutes: 1, branches: [main] }
  - { name: e, pool: linux, minutes: 1, after: d }
`),
    ).toEqual([{ path: 'builders[4].after', message: '"d" does not run on try, where this builder runs' }]);
  });

  it('report a cycle once the references are sound', () => {
    expect(
      problemsOf(`
seed: 1
duration_hours: 1
branches: [{ name: main, pushes_per_hour: 1 }]
workers: [{ pool: linux, count: 1 }]
builders:
  - { name: a, pool: linux, minutes: 1, after: c }
  - { name: b, pool: linux, minutes: 1, after: a }
  - { name: c, pool: linux, minutes: 1, after: b }
`),
    ).toEqual([{ path: 'builders[0].after', message: 'dependency cycle: a → c → b → a' }]);
  });

  it('name the file in the error, for syntax errors and unreadable files too', async () => {
    expect(() => parseScenario('bad.yaml', 'seed: [1, 2')).toThrow(
      /^bad\.yaml: invalid configuration\n {2}\(top level\): YAML syntax/,
    );
    expect(() => parseScenario('list.yaml', '- 1\n')).toThrow(/expected a mapping with `seed:`/);
    await expect(loadScenarioFile('/nonexistent/scenario.yaml')).rejects.toThrow(
      /^\/nonexistent\/scenario\.yaml: invalid configuration\n {2}\(top level\): cannot read the file/,
    );
  });
});

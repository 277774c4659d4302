import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../packages/coordinator/src/config/load-config.ts';
import { schedulingPolicy } from '../packages/coordinator/src/scheduler/live-policy.ts';
import { openFarmStore } from '../packages/coordinator/src/store/open-store.ts';
import { parseScenario } from '../packages/simulator/src/load-scenario.ts';
import { SIMULATED_EXCEPTION, simulate } from '../packages/simulator/src/simulation.ts';

/**
 * The simulator and the live store decide what becomes of a push's jobs with the same functions
 * (scheduler/plan-jobs.ts, job-outcome.ts, worker-lesson.ts, settle-dependents.ts). Here both
 * run the same farm with the same attempt endings, and must leave the same jobs in the same
 * states after the same number of attempts: a copy of a rule grown on either side that drifts
 * from the shared one shows up as a difference.
 */

interface FarmBuilder {
  name: string;
  after?: string[];
  branches?: string[];
  maxAttempts?: number;
}

const BUILDERS: FarmBuilder[] = [
  { name: 'build', maxAttempts: 2 },
  { name: 'lint' },
  { name: 'test', after: ['build'] },
  { name: 'report', after: ['test', 'lint'] },
  { name: 'nightly', after: ['build'], branches: ['main'] },
];

/** How attempts end: builders whose commands fail, and whether the one machine is broken. */
interface Endings {
  failing: string[];
  brokenMachine: boolean;
}

interface JobOutcome {
  builder: string;
  state: string;
  attempts: number;
}

function builderFields(b: FarmBuilder): string {
  return [
    `name: ${b.name}`,
    ...(b.after ? [`after: [${b.after.join(', ')}]`] : []),
    ...(b.branches ? [`branches: [${b.branches.join(', ')}]`] : []),
    `max_attempts: ${b.maxAttempts ?? 3}`,
  ].join(', ');
}

function simulated(branch: string, endings: Endings): JobOutcome[] {
  const scenario = parseScenario(
    'same-farm.yaml',
    `seed: 1
duration_hours: 1
jitter: 0
branches: [{ name: main, pushes_per_hour: 1 }, { name: try, pushes_per_hour: 1 }]
workers: [{ pool: linux, count: 1, exception_rate: ${endings.brokenMachine ? 1 : 0} }]
builders:
${BUILDERS.map((b) => `  - { ${builderFields(b)}, pool: linux, minutes: 10, failure_rate: ${endings.failing.includes(b.name) ? 1 : 0} }`).join('\n')}
`,
  );
  const record = simulate(scenario, 'pooled-smart', [{ id: 1, branch, at: 0 }]);
  return record.jobs.map((job) => ({
    builder: job.builder,
    state: job.state,
    attempts: record.attempts.filter((a) => a.builder === job.builder).length,
  }));
}

const dir = mkdtempSync(join(tmpdir(), 'switchyard-shared-rules-'));
let databases = 0;

async function live(branch: string, endings: Endings): Promise<JobOutcome[]> {
  const farm = parseConfig(
    'farm.yml',
    `repos: [{ name: demo, url: /nowhere }]
builders:
${BUILDERS.map((b) => `  - { ${builderFields(b)}, repo: demo, pool: linux, checkout: false, steps: [{ name: s, run: "true" }] }`).join('\n')}
`,
  );
  let now = Date.parse('2026-01-05T09:00:00Z');
  const store = await openFarmStore(join(dir, `farm-${++databases}.db`), {
    agingMs: () => farm.scheduling.agingMs,
    logger: pino({ level: 'silent' }),
    clock: () => now,
  });
  try {
    const push = await store.pushes.create(farm, { repo: 'demo', branch, revision: 'f00dfeed' });
    for (;;) {
      // An hour between attempts: any bench is over, as in the simulation.
      now += 3_600_000;
      await store.workers.checkIn('linux-1', { pool: 'linux' });
      const assigned = await store.jobs.assignWork(
        'linux',
        [{ name: 'linux-1', idleSince: now }],
        schedulingPolicy(farm),
        { leaseMs: 60_000, heartbeatSeconds: 10 },
      );
      const assignment = assigned.get('linux-1');
      if (!assignment) break;
      const finishedAt = new Date(now).toISOString();
      const ending = endings.brokenMachine
        ? ({ result: 'exception', reason: SIMULATED_EXCEPTION } as const)
        : ({ result: endings.failing.includes(assignment.job.builder) ? 'failure' : 'success' } as const);
      await store.jobs.attemptFinished(assignment.attemptId, { ...ending, finishedAt });
    }
    const { jobs } = await store.pushes.get(push.id);
    return jobs.map((job) => ({ builder: job.builder, state: job.state, attempts: job.attemptCount }));
  } finally {
    await store.close();
  }
}

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the simulator and the live store', () => {
  it('run every job of a green push once', async () => {
    const endings = { failing: [], brokenMachine: false };
    const outcome = await live('main', endings);
    expect(outcome).toEqual(simulated('main', endings));
    expect(outcome.map((job) => `${job.builder}:${job.state}:${job.attempts}`)).toEqual([
      'build:success:1',
      'lint:success:1',
      'test:success:1',
      'report:success:1',
      'nightly:success:1',
    ]);
  });

  it('skip what runs after a failed job, and run the rest', async () => {
    const endings = { failing: ['build'], brokenMachine: false };
    const outcome = await live('main', endings);
    expect(outcome).toEqual(simulated('main', endings));
    expect(outcome.map((job) => `${job.builder}:${job.state}:${job.attempts}`)).toEqual([
      'build:failure:1',
      'lint:success:1',
      'test:skipped:0',
      'report:skipped:0',
      'nightly:skipped:0',
    ]);
  });

  it('retry jobs a broken machine loses until their attempts are used, then end them in exception', async () => {
    const endings = { failing: [], brokenMachine: true };
    const outcome = await live('main', endings);
    expect(outcome).toEqual(simulated('main', endings));
    expect(outcome.map((job) => `${job.builder}:${job.state}:${job.attempts}`)).toEqual([
      'build:exception:2',
      'lint:exception:3',
      'test:skipped:0',
      'report:skipped:0',
      'nightly:skipped:0',
    ]);
  });

  it('create only the builders that run on the branch', async () => {
    const endings = { failing: ['lint'], brokenMachine: false };
    const outcome = await live('try', endings);
    expect(outcome).toEqual(simulated('try', endings));
    expect(outcome.map((job) => `${job.builder}:${job.state}:${job.attempts}`)).toEqual([
      'build:success:1',
      'lint:failure:1',
      'test:success:1',
      'report:skipped:0',
    ]);
  });
});

import { describe, expect, test } from 'vitest';
import { builderStats } from './builder-stats.ts';
import { distribution, trend } from './distribution.ts';
import { isGreen, summarizePush } from './push-outcome.ts';
import { pushTimes } from './push-times.ts';
import { waitTimes } from './wait-times.ts';
import { workerUtilisation } from './worker-utilisation.ts';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
/** A week, starting at midnight: the window every answer below is about. */
const window = { from: Date.UTC(2026, 0, 5), to: Date.UTC(2026, 0, 12) };
const at = (day: number, hour = 0) => window.from + day * DAY + hour * HOUR;

const job = (id: number, builder: string, state: string, finishedAt: number | null, reason: string | null = null) => ({
  id,
  builder,
  state,
  reason,
  finishedAt,
});

describe('distribution and trend', () => {
  test('median and p90 are nearest-rank; an empty set has nulls', () => {
    expect(distribution([5, 1, 4, 2, 3, 10, 9, 8, 7, 6])).toEqual({
      count: 10,
      medianMs: 5,
      p90Ms: 9,
      meanMs: 6,
      maxMs: 10,
    });
    expect(distribution([])).toEqual({ count: 0, medianMs: null, p90Ms: null, meanMs: null, maxMs: null });
  });

  test('compares the second half of the window with the first, in daily buckets', () => {
    const samples = [
      { at: at(0, 1), value: 100 },
      { at: at(1, 1), value: 100 },
      { at: at(5, 1), value: 150 },
      { at: at(6, 1), value: 150 },
    ];
    const result = trend(samples, window);
    expect(result.changePercent).toBe(50);
    expect(result.buckets).toHaveLength(7);
    expect(result.buckets.map((b) => b.count)).toEqual([1, 1, 0, 0, 0, 1, 1]);
    expect(trend(samples.slice(0, 2), window).changePercent).toBeNull();
  });
});

describe('push outcomes and last green', () => {
  test('a retrigger stands for the job it ran again', () => {
    const jobs = [
      job(1, 'build', 'failure', at(0, 1)),
      job(2, 'test', 'skipped', at(0, 1)),
      job(3, 'build', 'success', at(0, 2)),
    ];
    expect(isGreen(jobs)).toBe(false);
    expect(isGreen([...jobs, job(4, 'test', 'success', at(0, 3))])).toBe(true);
    expect(isGreen([])).toBe(false);
  });

  test('the summary has the worst result, counts, the jobs that did not succeed and the duration', () => {
    const summary = summarizePush(at(0), [
      job(1, 'build', 'success', at(0, 1)),
      job(2, 'test', 'failure', at(0, 2), 'exit 1'),
      job(3, 'talos', 'coalesced', at(0, 1)),
    ]);
    expect(summary).toEqual({
      result: 'failure',
      jobs: 3,
      counts: { success: 1, failure: 1, coalesced: 1 },
      durationMs: 2 * HOUR,
      finishedAt: new Date(at(0, 2)).toISOString(),
      notSucceeded: [
        { id: 2, builder: 'test', state: 'failure', reason: 'exit 1' },
        { id: 3, builder: 'talos', state: 'coalesced', reason: null },
      ],
    });
  });
});

describe('end-to-end time per push', () => {
  const push = (id: number, branch: string, createdAt: number, jobs: ReturnType<typeof job>[]) => ({
    id,
    repo: 'app',
    branch,
    revision: `r${id}`,
    createdAt,
    jobs,
  });

  test('is push → last job final, per branch, for completed pushes in the window', () => {
    const history = [
      push(1, 'main', at(-1), [job(1, 'build', 'success', at(0))]), // before the window
      push(2, 'main', at(0), [job(2, 'build', 'success', at(0, 1)), job(3, 'test', 'failure', at(0, 3))]),
      push(3, 'main', at(6), [job(4, 'build', 'success', at(6, 4))]),
      push(4, 'try', at(1), [job(5, 'build', 'success', at(1, 1))]),
      push(5, 'try', at(2), [job(6, 'build', 'running', null)]), // not complete
    ];
    const answer = pushTimes(history, window);
    expect(answer.groups.map((g) => [g.branch, g.endToEnd.count, g.endToEnd.medianMs, g.trend.changePercent])).toEqual([
      ['main', 2, 3 * HOUR, 33.3],
      ['try', 1, HOUR, null],
    ]);
    expect(answer.recent.map((r) => [r.push, r.endToEndMs])).toEqual([
      [4, HOUR],
      [3, 4 * HOUR],
      [2, 3 * HOUR],
    ]);
  });
});

describe('wait time per pool', () => {
  test('is pending → started, for jobs started in the window', () => {
    const answer = waitTimes(
      [
        { pool: 'linux', pendingAt: at(0), startedAt: at(0) + 2 * MIN },
        { pool: 'linux', pendingAt: at(5), startedAt: at(5) + 10 * MIN },
        { pool: 'linux', pendingAt: at(6), startedAt: at(6) + 30 * MIN },
        { pool: 'mac', pendingAt: at(1), startedAt: at(1) + HOUR },
        { pool: 'mac', pendingAt: at(-2), startedAt: at(-1) }, // before the window
      ],
      window,
    );
    expect(
      answer.pools.map((p) => [p.pool, p.wait.count, p.wait.medianMs, p.wait.p90Ms, p.trend.changePercent]),
    ).toEqual([
      ['linux', 3, 10 * MIN, 30 * MIN, 400],
      ['mac', 1, HOUR, HOUR, null],
    ]);
  });
});

describe('builders', () => {
  test('durations of runs that ended on their own, rates among success, failure and exception, slowest first', () => {
    const run = (builder: string, state: string, minutes: number, day = 1) => ({
      builder,
      state,
      startedAt: at(day) - minutes * MIN,
      finishedAt: at(day),
    });
    const answer = builderStats(
      [
        run('build', 'success', 30),
        run('build', 'success', 40),
        run('build', 'failure', 35),
        run('build', 'exception', 1),
        run('build', 'cancelled', 5),
        run('test', 'success', 50),
        run('test', 'success', 50, -1), // before the window
        run('lint', 'exception', 1),
      ],
      window,
    );
    expect(
      answer.builders.map((b) => [b.builder, b.runs, b.duration.medianMs, b.failureRate, b.exceptionRate]),
    ).toEqual([
      ['test', 1, 50 * MIN, 0, 0],
      ['build', 4, 35 * MIN, 0.25, 0.25],
      ['lint', 1, null, 0, 1],
    ]);
    expect(answer.builders[1]?.counts).toEqual({ success: 2, failure: 1, exception: 1 });
  });
});

describe('worker utilisation', () => {
  test('is time running attempts over time known, clipped to the window', () => {
    const answer = workerUtilisation(
      [
        { name: 'w1', pool: 'linux', firstSeen: at(-10), lastSeen: window.to, online: true },
        { name: 'w2', pool: 'linux', firstSeen: at(3, 12), lastSeen: at(5), online: false },
        { name: 'gone', pool: 'mac', firstSeen: at(-10), lastSeen: at(-5), online: false },
      ],
      [
        { worker: 'w1', startedAt: at(-1, 12), finishedAt: at(0, 12) }, // half inside
        { worker: 'w1', startedAt: at(2), finishedAt: at(3) },
        { worker: 'w2', startedAt: at(4), finishedAt: at(4, 18) },
        { worker: 'w1', startedAt: at(6, 12), finishedAt: null }, // still running
      ],
      window,
    );
    expect(answer.workers.map((w) => [w.name, w.attempts, w.busyMs, w.availableMs, w.utilisation])).toEqual([
      ['w1', 3, 2 * DAY, 7 * DAY, 0.2857],
      ['w2', 1, 18 * HOUR, 36 * HOUR, 0.5],
    ]);
    expect(answer.pools).toEqual([{ pool: 'linux', workers: 2, utilisation: 0.3235 }]);
  });
});

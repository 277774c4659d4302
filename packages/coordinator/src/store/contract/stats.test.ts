import type { Push } from '@switchyard/protocol';
import { expect, it } from 'vitest';
import { claimJob, expectRefusal, finish, keepRunning, push } from './builders.ts';
import type { ContractContext } from './harness.ts';
import { describeStoreContract, iso, MINUTE, START } from './harness.ts';

const DAY = 24 * 60 * MINUTE;
/** Waits a minute in the queue, then runs `minutes` on w1 and ends as told. */
async function run(t: ContractContext, minutes: number, result: 'success' | 'failure') {
  t.clock.advance(MINUTE);
  const { attemptId } = await claimJob(t, 'w1');
  await keepRunning(t, attemptId, minutes * MINUTE);
  await finish(t, attemptId, result);
}

/**
 * Two pushes to app feature/x an hour before now. The first goes green in 20 minutes (build 10,
 * test 8, a minute's wait before each); the second's build fails after 10, and its test is skipped.
 */
async function history(t: ContractContext): Promise<{ green: Push; red: Push }> {
  const green = await push(t, { branch: 'feature/x' });
  await run(t, 10, 'success');
  await run(t, 8, 'success');
  t.clock.now = START + 30 * MINUTE;
  const red = await push(t, { branch: 'feature/x' });
  await run(t, 10, 'failure');
  t.clock.now = START + 60 * MINUTE;
  return { green, red };
}

describeStoreContract('stats', (t) => {
  it('measures end-to-end time per push, for the pushes in the window', async () => {
    const { green, red } = await history(t);
    const answer = await t.store.stats.pushTimes({});
    expect(answer.groups).toMatchObject([
      { repo: 'app', branch: 'feature/x', endToEnd: { count: 2, medianMs: 11 * MINUTE, maxMs: 20 * MINUTE } },
    ]);
    expect(answer.recent.map((entry) => [entry.push, entry.endToEndMs])).toEqual([
      [red.id, 11 * MINUTE],
      [green.id, 20 * MINUTE],
    ]);
    expect((await t.store.stats.pushTimes({ branch: 'main' })).groups).toEqual([]);
    t.clock.advance(7 * DAY);
    expect((await t.store.stats.pushTimes({})).groups).toEqual([]);
    expect((await t.store.stats.pushTimes({ days: 8 })).groups).toHaveLength(1);
  });

  it('measures how long jobs waited for a worker, per pool', async () => {
    await history(t);
    const answer = await t.store.stats.waitTimes({});
    expect(answer.pools).toMatchObject([{ pool: 'linux', wait: { count: 3, medianMs: MINUTE, maxMs: MINUTE } }]);
    expect((await t.store.stats.waitTimes({ pool: 'perf' })).pools).toEqual([]);
  });

  it('measures each builder’s durations and failure rate', async () => {
    await history(t);
    const answer = await t.store.stats.builderStats({});
    expect(answer.builders.map((b) => [b.builder, b.runs, b.duration.medianMs, b.counts, b.failureRate])).toEqual([
      ['build', 2, 10 * MINUTE, { success: 1, failure: 1, exception: 0 }, 0.5],
      ['test', 1, 8 * MINUTE, { success: 1, failure: 0, exception: 0 }, 0],
    ]);
    expect((await t.store.stats.builderStats({ builder: 'test' })).builders.map((b) => b.builder)).toEqual(['test']);
  });

  it('measures how busy each worker was since it was first seen', async () => {
    await history(t);
    const answer = await t.store.stats.workerUtilisation({});
    expect(answer.workers).toEqual([
      {
        name: 'w1',
        pool: 'linux',
        attempts: 3,
        busyMs: 28 * MINUTE,
        availableMs: 59 * MINUTE,
        utilisation: Math.round((28 / 59) * 10_000) / 10_000,
      },
    ]);
    expect(answer.pools).toEqual([{ pool: 'linux', workers: 1, utilisation: answer.workers[0]?.utilisation }]);
  });

  it('finds the newest push of a branch whose every job succeeded', async () => {
    const { green } = await history(t);
    expect(await t.store.stats.lastGreen('app', 'feature/x')).toEqual({
      repo: 'app',
      branch: 'feature/x',
      revision: green.revision,
      push: green.id,
      author: 'Ann <ann@example.org>',
      pushedAt: iso(START),
      completedAt: iso(START + 20 * MINUTE),
      jobs: 2,
    });
    const refusal = await expectRefusal(t.store.stats.lastGreen('app', 'main'), 'not-found');
    expect(refusal.details).toEqual({ repo: 'app', branch: 'main' });
  });
});

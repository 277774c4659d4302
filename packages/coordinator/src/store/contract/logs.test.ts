import { expect, it } from 'vitest';
import { claimJob, finish, jobOf, push, startStep } from './builders.ts';
import { describeStoreContract } from './harness.ts';

describeStoreContract('logs', (t) => {
  it('says where a started step’s log stands, and nothing for a step never started', async () => {
    const pushed = await push(t);
    const { attemptId } = await claimJob(t, 'w1');
    expect(await t.store.logs.stepLogState(attemptId, 0)).toBeNull();
    await startStep(t, attemptId, 0);
    expect(await t.store.logs.stepLogState(attemptId, 0)).toEqual({
      bytes: 0,
      seq: 0,
      attemptState: 'running',
      jobId: jobOf(pushed, 'build'),
      compressed: false,
    });
    expect(await t.store.logs.stepLogState(attemptId + 100, 0)).toBeNull();
  });

  it('moves a step’s log on only from the batch it expects', async () => {
    await push(t);
    const { attemptId } = await claimJob(t, 'w1');
    await startStep(t, attemptId, 0);
    const state = async () => {
      const log = await t.store.logs.stepLogState(attemptId, 0);
      return [log?.seq, log?.bytes];
    };
    await t.store.logs.recordAppend(attemptId, 0, 0, 100);
    expect(await state()).toEqual([1, 100]);
    await t.store.logs.recordAppend(attemptId, 0, 0, 250);
    await t.store.logs.recordAppend(attemptId, 0, 2, 250);
    expect(await state()).toEqual([1, 100]);
    await t.store.logs.recordAppend(attemptId, 0, 1, 250);
    expect(await state()).toEqual([2, 250]);
  });

  it('lists the attempts that are over with logs still raw, until every step is compressed', async () => {
    await push(t);
    await push(t);
    const done = await claimJob(t, 'w1');
    const running = await claimJob(t, 'w2');
    for (const { attemptId } of [done, running]) {
      await startStep(t, attemptId, 0);
      await startStep(t, attemptId, 1);
    }
    expect(await t.store.logs.attemptsWithRawLogs()).toEqual([]);
    await finish(t, done.attemptId, 'success');
    expect(await t.store.logs.attemptsWithRawLogs()).toEqual([done.attemptId]);
    await t.store.logs.markCompressed(done.attemptId, 0);
    expect((await t.store.logs.stepLogState(done.attemptId, 0))?.compressed).toBe(true);
    expect(await t.store.logs.attemptsWithRawLogs()).toEqual([done.attemptId]);
    await t.store.logs.markCompressed(done.attemptId, 1);
    expect(await t.store.logs.attemptsWithRawLogs()).toEqual([]);
  });
});

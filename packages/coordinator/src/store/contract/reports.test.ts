import { expect, it } from 'vitest';
import { schedulingPolicy } from '../../scheduler/live-policy.ts';
import type { ReportRecord } from '../port.ts';
import {
  claimJob,
  dataOf,
  eventsAfter,
  eventTypesAfter,
  expectRefusal,
  finish,
  jobOf,
  LEASE,
  push,
  startStep,
  stepEnded,
} from './builders.ts';
import { type ContractContext, describeStoreContract, iso, SECOND } from './harness.ts';

/** What a worker's outbox holds once a one-step job is over: started, one log batch, finished, the end. */
function wholeJob(t: ContractContext, logBytes = 120): ReportRecord[] {
  return [
    { kind: 'step-started', index: 0, request: { name: 'compile', startedAt: t.clock.iso() } },
    { kind: 'log', step: 0, seq: 0, offset: 0, data: Buffer.alloc(logBytes, 'a') },
    { kind: 'step-finished', index: 0, request: stepEnded(t) },
    { kind: 'attempt-finished', request: { result: 'success', finishedAt: t.clock.iso() } },
  ];
}

describeStoreContract('jobs: several reports of an attempt in one transaction', (t) => {
  it('applies a whole job’s reports in their order, with the events each verb alone would append', async () => {
    const pushed = await push(t);
    const { attemptId } = await claimJob(t, 'w1');
    const before = await t.store.events.lastId();
    expect(await t.store.jobs.report(attemptId, wholeJob(t))).toEqual({ cancel: false });
    expect(await eventTypesAfter(t, before)).toEqual([
      'step.started',
      'step.finished',
      'attempt.finished',
      'job.finished',
      // `test` runs after `build`: the job's success lets it start.
      'job.pending',
    ]);
    expect(await t.store.jobs.stepsOf(attemptId)).toMatchObject([
      { idx: 0, name: 'compile', state: 'success', log_bytes: 120, log_seq: 1 },
    ]);
    expect(await t.store.jobs.jobState(jobOf(pushed, 'build'))).toMatchObject({ state: 'success' });
  });

  it('may be repeated whole: a report sent again after a lost answer changes nothing', async () => {
    await push(t);
    const { attemptId } = await claimJob(t, 'w1');
    await t.store.jobs.report(attemptId, wholeJob(t));
    const before = await t.store.events.lastId();
    expect(await t.store.jobs.report(attemptId, wholeJob(t))).toEqual({ cancel: false });
    expect(await t.store.events.lastId()).toBe(before);
    expect(await t.store.jobs.stepsOf(attemptId)).toMatchObject([{ log_bytes: 120, log_seq: 1 }]);
  });

  it('announces a step that started and ended in one report as started, then finished', async () => {
    await push(t);
    const { attemptId } = await claimJob(t, 'w1');
    const startedAt = t.clock.iso();
    t.clock.advance(1500);
    const before = await t.store.events.lastId();
    await t.store.jobs.report(attemptId, [
      { kind: 'step-started', index: 0, request: { name: 'compile', startedAt } },
      { kind: 'step-finished', index: 0, request: stepEnded(t, { exitCode: 2 }) },
    ]);
    const [started, finished] = await eventsAfter(t, before);
    expect(dataOf(started).step).toMatchObject({
      state: 'running',
      exitCode: null,
      finishedAt: null,
      durationMs: null,
    });
    expect(dataOf(finished).step).toMatchObject({ state: 'failure', exitCode: 2, durationMs: 1500 });
    expect(await t.store.jobs.stepsOf(attemptId)).toMatchObject([{ idx: 0, state: 'failure', exit_code: 2 }]);
  });

  it('ends a step whose start was stored alone when the start comes again with its end', async () => {
    await push(t);
    const { attemptId } = await claimJob(t, 'w1');
    const [started, , ended] = wholeJob(t) as [ReportRecord, ReportRecord, ReportRecord];
    await t.store.jobs.report(attemptId, [started]);
    const before = await t.store.events.lastId();
    await t.store.jobs.report(attemptId, [started, ended]);
    expect(await eventTypesAfter(t, before)).toEqual(['step.finished']);
    expect(await t.store.jobs.stepsOf(attemptId)).toMatchObject([{ idx: 0, state: 'success', log_bytes: 0 }]);
  });

  it('stores a step’s first batch with its start, and takes the next batch after a repeat of both', async () => {
    await push(t);
    const { attemptId } = await claimJob(t, 'w1');
    const [started, first] = wholeJob(t, 5) as [ReportRecord, ReportRecord];
    await t.store.jobs.report(attemptId, [started, first]);
    // The answer was lost: the worker sends both again, with the batch its step wrote meanwhile.
    const second: ReportRecord = { kind: 'log', step: 0, seq: 1, offset: 5, data: Buffer.from('bbb') };
    await t.store.jobs.report(attemptId, [started, first, second]);
    expect(await t.store.jobs.stepsOf(attemptId)).toMatchObject([{ idx: 0, log_bytes: 8, log_seq: 2 }]);
    const chunks = await t.store.logs.chunks(attemptId, 0, 0, 10);
    expect(chunks.map((chunk) => [chunk.seq, chunk.offset, chunk.data.toString()])).toEqual([
      [0, 0, 'aaaaa'],
      [1, 5, 'bbb'],
    ]);
  });

  it('applies all of it or none: a refused entry leaves the earlier ones unapplied', async () => {
    await push(t);
    const { attemptId } = await claimJob(t, 'w1');
    await startStep(t, attemptId, 0, 'checkout');
    const before = await t.store.events.lastId();
    const refused = t.store.jobs.report(attemptId, [
      { kind: 'step-finished', index: 0, request: stepEnded(t) },
      { kind: 'step-started', index: 1, request: { name: 'compile', startedAt: t.clock.iso() } },
      { kind: 'step-started', index: 1, request: { name: 'package', startedAt: t.clock.iso() } },
    ]);
    await expectRefusal(refused, 'conflict');
    expect(await t.store.events.lastId()).toBe(before);
    expect(await t.store.jobs.stepsOf(attemptId)).toMatchObject([{ idx: 0, state: 'running', finished_at: null }]);
  });

  it('moves a log on only from where it ends: a later batch is a gap, a batch elsewhere a conflict', async () => {
    await push(t);
    const { attemptId } = await claimJob(t, 'w1');
    await startStep(t, attemptId, 0);
    await t.store.jobs.report(attemptId, [{ kind: 'log', step: 0, seq: 0, offset: 0, data: Buffer.alloc(10, 'a') }]);
    await expectRefusal(
      t.store.jobs.report(attemptId, [{ kind: 'log', step: 0, seq: 2, offset: 10, data: Buffer.alloc(5, 'a') }]),
      'log-sequence-gap',
    );
    await expectRefusal(
      t.store.jobs.report(attemptId, [{ kind: 'log', step: 0, seq: 1, offset: 4, data: Buffer.alloc(5, 'a') }]),
      'conflict',
    );
    await t.store.jobs.report(attemptId, [
      { kind: 'log', step: 0, seq: 1, offset: 10, data: Buffer.alloc(5, 'a') },
      { kind: 'log', step: 0, seq: 2, offset: 15, data: Buffer.alloc(7, 'a') },
    ]);
    expect(await t.store.logs.stepLogState(attemptId, 0)).toMatchObject({ bytes: 22, seq: 3 });
    await expectRefusal(
      t.store.jobs.report(attemptId, [{ kind: 'log', step: 1, seq: 0, offset: 0, data: Buffer.alloc(1, 'a') }]),
      'conflict',
    );
  });

  it('says cancel for a cancelled attempt and still takes its worker’s account of it', async () => {
    const pushed = await push(t);
    const { attemptId } = await claimJob(t, 'w1');
    await t.store.jobs.cancel(jobOf(pushed, 'build'));
    const result = await t.store.jobs.report(attemptId, [
      { kind: 'step-started', index: 0, request: { name: 'compile', startedAt: t.clock.iso() } },
      {
        kind: 'step-finished',
        index: 0,
        request: stepEnded(t, { exitCode: null, signal: 'SIGTERM', cancelled: true }),
      },
      { kind: 'attempt-finished', request: { result: 'exception', reason: 'cancelled', finishedAt: t.clock.iso() } },
    ]);
    expect(result).toEqual({ cancel: true });
    expect(await t.store.jobs.stepsOf(attemptId)).toMatchObject([{ idx: 0, state: 'cancelled' }]);
    expect(await t.store.jobs.jobState(jobOf(pushed, 'build'))).toMatchObject({ state: 'cancelled' });
  });

  it('refuses the reports of an attempt that ended with lease-lost, and of none with not-found', async () => {
    await push(t);
    const { attemptId } = await claimJob(t, 'w1');
    await finish(t, attemptId, 'failure');
    await expectRefusal(t.store.jobs.report(attemptId, wholeJob(t)), 'lease-lost');
    await expectRefusal(t.store.jobs.report(attemptId + 100, wholeJob(t)), 'not-found');
  });

  it('stores no step for an attempt that no longer takes reports, even when the report repeats its end', async () => {
    await push(t);
    const { attemptId } = await claimJob(t, 'w1');
    await t.store.jobs.report(attemptId, wholeJob(t));
    // The same end, with a step the attempt never had: a repeat, so accepted, and nothing stored.
    const otherStep: ReportRecord[] = [
      { kind: 'step-started', index: 1, request: { name: 'package', startedAt: t.clock.iso() } },
      { kind: 'log', step: 1, seq: 0, offset: 0, data: Buffer.from('late') },
      { kind: 'attempt-finished', request: { result: 'success', finishedAt: t.clock.iso() } },
    ];
    const before = await t.store.events.lastId();
    expect(await t.store.jobs.report(attemptId, otherStep)).toEqual({ cancel: false });
    expect(await t.store.events.lastId()).toBe(before);
    expect((await t.store.jobs.stepsOf(attemptId)).map((step) => step.idx)).toEqual([0]);
    // A running attempt whose lease ran out (the job that waited for the first): refused, and its step not kept either.
    const second = await claimJob(t, 'w2');
    t.clock.advance(LEASE.leaseMs + 1);
    const refusal = await expectRefusal(t.store.jobs.report(second.attemptId, wholeJob(t)), 'lease-lost');
    expect(refusal.details).toMatchObject({ reason: 'lease-expired' });
    expect(await t.store.jobs.stepsOf(second.attemptId)).toEqual([]);
  });

  it('checks its worker in with the end when the worker’s next claim came with the report', async () => {
    const pushed = await push(t);
    const { attemptId } = await claimJob(t, 'w1');
    t.clock.advance(5 * SECOND);
    const before = await t.store.events.lastId();
    const next = { pool: 'linux', instance: 'w1-process', tags: { os: 'debian' }, version: '9.9.9' };
    expect(
      await t.store.jobs.report(attemptId, wholeJob(t), { workerName: 'w1', request: next, credential: null }),
    ).toEqual({ cancel: false, checkedIn: { benchedUntil: null } });
    expect(await t.store.workers.list()).toMatchObject([
      { name: 'w1', state: 'idle', tags: { os: 'debian' }, version: '9.9.9', lastSeen: iso(t.clock.now) },
    ]);
    // Checked in: a matching round gives it the job its success let start, with no check-in of its own.
    const assigned = await t.store.jobs.assignWork(
      'linux',
      [{ name: 'w1', idleSince: t.clock.now }],
      schedulingPolicy(t.farm),
      LEASE,
    );
    expect(assigned.get('w1')?.job.id).toBe(jobOf(pushed, 'test'));
    expect(await eventTypesAfter(t, before)).not.toContain('worker.connected');
  });

  it('says until when the end benched the worker it checked in', async () => {
    await push(t);
    const { attemptId } = await claimJob(t, 'w1');
    const ended: ReportRecord = {
      kind: 'attempt-finished',
      request: { result: 'exception', reason: 'worker-error', finishedAt: t.clock.iso() },
    };
    const claimAfter = { workerName: 'w1', request: { pool: 'linux', instance: 'w1-process' }, credential: null };
    expect(await t.store.jobs.report(attemptId, [ended], claimAfter)).toEqual({
      cancel: false,
      checkedIn: { benchedUntil: t.clock.now + 10 * SECOND },
    });
    expect((await t.store.workers.list())[0]).toMatchObject({ state: 'idle', exceptionStreak: 1 });
  });

  it('leaves the check-in to the claim when the end is not the usual check-in’s to write', async () => {
    const pushed = await push(t, { branch: 'a' });
    await push(t, { branch: 'b' });
    await t.store.workers.checkIn('w1', { pool: 'linux', instance: 'w1-process' }, 'token-a');
    const request = { pool: 'linux', instance: 'w1-process' };
    // Another worker's claim.
    const first = await claimJob(t, 'w1');
    expect(
      await t.store.jobs.report(first.attemptId, wholeJob(t), { workerName: 'w2', request, credential: null }),
    ).toEqual({
      cancel: false,
    });
    // A claim with a credential that may not act for the worker: the full check-in refuses it.
    const second = await claimJob(t, 'w1');
    const refused = { workerName: 'w1', request, credential: 'token-b' };
    expect(await t.store.jobs.report(second.attemptId, wholeJob(t), refused)).toEqual({ cancel: false });
    await expectRefusal(t.store.workers.checkIn('w1', request, 'token-b'), 'forbidden');
    // The same report again, whose end was written already.
    const claimAfter = { workerName: 'w1', request, credential: 'token-a' };
    expect(await t.store.jobs.report(second.attemptId, wholeJob(t), claimAfter)).toEqual({ cancel: false });
    // The end of a cancelled attempt: cancelling freed the worker.
    const third = await claimJob(t, 'w1');
    await t.store.jobs.cancel(third.job.id);
    const cancelled: ReportRecord = {
      kind: 'attempt-finished',
      request: { result: 'exception', reason: 'cancelled', finishedAt: t.clock.iso() },
    };
    expect(await t.store.jobs.report(third.attemptId, [cancelled], claimAfter)).toEqual({ cancel: true });
    expect(await t.store.jobs.jobState(jobOf(pushed, 'build'))).toMatchObject({ state: 'success' });
  });
});

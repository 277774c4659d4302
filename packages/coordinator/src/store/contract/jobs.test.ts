import { expect, it } from 'vitest';
import {
  claimJob,
  dataOf,
  eventsAfter,
  eventTypesAfter,
  expectRefusal,
  finish,
  jobOf,
  keepRunning,
  push,
  runOnce,
  startStep,
  stepEnded,
} from './builders.ts';
import { describeStoreContract, FARM_YAML, farmFrom, MINUTE, SECOND } from './harness.ts';

describeStoreContract('jobs: reports, cancel, retrigger and reads', (t) => {
  it('records a started step once, whatever the repeats, and refuses another name at its index', async () => {
    const pushed = await push(t);
    const { attemptId } = await claimJob(t, 'w1');
    const before = await t.store.events.lastId();
    await startStep(t, attemptId, 0, 'checkout');
    await startStep(t, attemptId, 0, 'checkout');
    expect(await eventTypesAfter(t, before)).toEqual(['step.started']);
    await expectRefusal(startStep(t, attemptId, 0, 'compile'), 'conflict');
    expect(await t.store.jobs.stepsOf(attemptId)).toMatchObject([
      { attempt_id: attemptId, idx: 0, name: 'checkout', state: 'running', finished_at: null },
    ]);
    const [event] = await eventsAfter(t, before);
    expect(event).toMatchObject({ job_id: jobOf(pushed, 'build'), push_id: pushed.id, builder: 'build' });
  });

  it('finishes a step once, with the state its report implies', async () => {
    await push(t);
    const { attemptId } = await claimJob(t, 'w1');
    const reports = [
      stepEnded(t, { exitCode: 0 }),
      stepEnded(t, { exitCode: 2 }),
      stepEnded(t, { exitCode: null, signal: 'SIGKILL', timedOut: true }),
      stepEnded(t, { exitCode: null, signal: 'SIGTERM', cancelled: true }),
    ];
    for (const [index, report] of reports.entries()) {
      await startStep(t, attemptId, index);
      await t.store.jobs.stepFinished(attemptId, index, report);
    }
    const before = await t.store.events.lastId();
    await t.store.jobs.stepFinished(attemptId, 0, stepEnded(t, { exitCode: 1 }));
    expect(await t.store.events.lastId()).toBe(before);
    expect((await t.store.jobs.stepsOf(attemptId)).map((s) => [s.state, s.exit_code, s.signal])).toEqual([
      ['success', 0, null],
      ['failure', 2, null],
      ['exception', null, 'SIGKILL'],
      ['cancelled', null, 'SIGTERM'],
    ]);
    await expectRefusal(t.store.jobs.stepFinished(attemptId, 9, stepEnded(t)), 'conflict');
  });

  it('never lets a step end before it started, whatever the worker’s clock says', async () => {
    await push(t);
    const { attemptId } = await claimJob(t, 'w1');
    await startStep(t, attemptId, 0);
    await t.store.jobs.stepFinished(attemptId, 0, stepEnded(t, { finishedAt: t.clock.iso(-MINUTE) }));
    const [step] = await t.store.jobs.stepsOf(attemptId);
    expect(step?.finished_at).toBe(step?.started_at);
  });

  it('refuses step reports of an attempt that ended with lease-lost, and of none with not-found', async () => {
    await push(t);
    const { attemptId } = await claimJob(t, 'w1');
    await startStep(t, attemptId, 0);
    await finish(t, attemptId, 'failure');
    await expectRefusal(startStep(t, attemptId, 1), 'lease-lost');
    await expectRefusal(t.store.jobs.stepFinished(attemptId, 0, stepEnded(t)), 'lease-lost');
    await expectRefusal(startStep(t, attemptId + 100, 0), 'not-found');
  });

  it('accepts the reports of a cancelled attempt’s worker as it winds down', async () => {
    const pushed = await push(t);
    const { attemptId } = await claimJob(t, 'w1');
    await t.store.jobs.cancel(jobOf(pushed, 'build'));
    await startStep(t, attemptId, 0);
    await t.store.jobs.stepFinished(attemptId, 0, stepEnded(t, { cancelled: true }));
    await t.store.jobs.attemptFinished(attemptId, {
      result: 'exception',
      reason: 'cancelled',
      message: 'killed the process group',
      finishedAt: t.clock.iso(),
    });
    const job = await t.store.jobs.get(jobOf(pushed, 'build'));
    expect(job.state).toBe('cancelled');
    expect(job.attempts).toMatchObject([
      { state: 'cancelled', message: 'killed the process group', steps: [{ state: 'cancelled' }] },
    ]);
  });

  it('ends a job with its attempt: steps left open end in exception, timings and message are kept', async () => {
    const pushed = await push(t, { branch: 'feature/x' });
    const { attemptId } = await claimJob(t, 'w1');
    await startStep(t, attemptId, 0);
    await keepRunning(t, attemptId, 3 * MINUTE);
    const before = await t.store.events.lastId();
    await t.store.jobs.attemptFinished(attemptId, {
      result: 'success',
      message: 'all good',
      finishedAt: t.clock.iso(),
      timings: { checkoutMs: 1200 },
    });
    const job = await t.store.jobs.get(jobOf(pushed, 'build'));
    expect(job).toMatchObject({ state: 'success', durationMs: 3 * MINUTE });
    expect(job.attempts).toMatchObject([
      { state: 'success', message: 'all good', timings: { checkoutMs: 1200 }, steps: [{ state: 'exception' }] },
    ]);
    expect(await eventTypesAfter(t, before)).toEqual(['attempt.finished', 'job.finished', 'job.pending']);
    const finished = (await eventsAfter(t, before)).find((event) => event.type === 'job.finished');
    expect(dataOf<{ job: { state: string } }>(finished).job.state).toBe('success');
  });

  it('accepts a repeated attempt report, and refuses one that contradicts how the attempt ended', async () => {
    await push(t);
    const { attemptId } = await claimJob(t, 'w1');
    await finish(t, attemptId, 'failure');
    const before = await t.store.events.lastId();
    await finish(t, attemptId, 'failure');
    expect(await t.store.events.lastId()).toBe(before);
    const refusal = await expectRefusal(finish(t, attemptId, 'success'), 'lease-lost');
    expect(refusal.details).toEqual({ state: 'failure', reason: null });
    await expectRefusal(finish(t, attemptId + 100, 'success'), 'not-found');
  });

  it('retries an exception that is not the job’s fault, and ends the job on one that is', async () => {
    const pushed = await push(t);
    const first = await claimJob(t, 'w1');
    await finish(t, first.attemptId, 'exception', 'checkout-failed');
    const buildId = jobOf(pushed, 'build');
    expect(await t.store.jobs.get(buildId)).toMatchObject({
      state: 'pending',
      reason: 'retrying after checkout-failed',
    });
    const second = await claimJob(t, 'w2');
    expect(second).toMatchObject({ attemptNumber: 2, job: { id: buildId } });
    await finish(t, second.attemptId, 'exception', 'timeout');
    expect(await t.store.jobs.get(buildId)).toMatchObject({ state: 'exception', reason: 'timeout', attemptCount: 2 });
  });

  it('cancels a pending job, and skips what waited for it', async () => {
    const pushed = await push(t);
    const before = await t.store.events.lastId();
    const cancelled = await t.store.jobs.cancel(jobOf(pushed, 'build'));
    expect(cancelled).toMatchObject({ state: 'cancelled', reason: 'cancelled' });
    expect((await t.store.jobs.get(jobOf(pushed, 'test'))).state).toBe('skipped');
    const finished = (await eventsAfter(t, before)).filter((event) => event.type === 'job.finished');
    expect(finished.map((event) => event.job_id)).toEqual([jobOf(pushed, 'build'), jobOf(pushed, 'test')]);
  });

  it('cancels a running job with its attempt and open steps, freeing the worker', async () => {
    const pushed = await push(t);
    const { attemptId } = await claimJob(t, 'w1');
    await startStep(t, attemptId, 0);
    await t.store.jobs.cancel(jobOf(pushed, 'build'));
    expect(await t.store.jobs.attemptState(attemptId)).toEqual({ state: 'cancelled', reason: 'cancelled' });
    expect(await t.store.jobs.stepsOf(attemptId)).toMatchObject([{ state: 'cancelled' }]);
    expect((await t.store.workers.list())[0]).toMatchObject({ state: 'idle', currentAttempt: null });
  });

  it('refuses to cancel a job that has ended, or one that does not exist', async () => {
    const pushed = await push(t);
    await runOnce(t, 'w1', 'success');
    const refusal = await expectRefusal(t.store.jobs.cancel(jobOf(pushed, 'build')), 'conflict');
    expect(refusal.details).toEqual({ state: 'success' });
    await expectRefusal(t.store.jobs.cancel(9999), 'not-found');
  });

  it('retriggers a finished job as a new, exact job of its push, and reopens the push', async () => {
    const pushed = await push(t, { branch: 'feature/x' });
    await runOnce(t, 'w1', 'success');
    await runOnce(t, 'w1', 'failure');
    const before = await t.store.events.lastId();
    const again = await t.store.jobs.retrigger(t.farm, jobOf(pushed, 'test'));
    expect(again).toMatchObject({
      pushId: pushed.id,
      builder: 'test',
      state: 'pending',
      exact: true,
      retriggeredFrom: jobOf(pushed, 'test'),
      dependsOn: [jobOf(pushed, 'build')],
    });
    expect(await eventTypesAfter(t, before)).toEqual(['job.pending']);
    await runOnce(t, 'w1', 'success');
    const completed = (await eventsAfter(t, before)).filter((event) => event.type === 'push.completed');
    expect(completed.map((event) => dataOf<{ summary: { result: string } }>(event).summary.result)).toEqual([
      'success',
    ]);
  });

  it('refuses to retrigger an unfinished job, one whose dependency failed, one whose builder is gone', async () => {
    const pushed = await push(t, { branch: 'feature/x' });
    const running = await expectRefusal(t.store.jobs.retrigger(t.farm, jobOf(pushed, 'build')), 'conflict');
    expect(running.details).toEqual({ state: 'pending' });
    await runOnce(t, 'w1', 'failure');
    const skipped = await expectRefusal(t.store.jobs.retrigger(t.farm, jobOf(pushed, 'test')), 'conflict');
    expect(skipped.message).toMatch(/retrigger it first/);
    const withoutBuild = farmFrom(FARM_YAML.replace(/ {2}- name: site[\s\S]*$/, ''));
    await t.store.jobs.retrigger(withoutBuild, jobOf(pushed, 'build'));
    const withoutTest = farmFrom(
      FARM_YAML.replace(/ {2}- name: test\n[\s\S]*?(?= {2}- name: talos)/, '').replace(/ {2}- name: site[\s\S]*$/, ''),
    );
    const gone = await expectRefusal(t.store.jobs.retrigger(withoutTest, jobOf(pushed, 'test')), 'conflict');
    expect(gone.message).toMatch(/no longer in the configuration/);
    await expectRefusal(t.store.jobs.retrigger(t.farm, 9999), 'not-found');
  });

  it('explains where a pending job stands in its queue, and why a running one was given to its worker', async () => {
    const first = await push(t);
    const second = await push(t);
    const waiting = await t.store.jobs.get(jobOf(second, 'build'), new Set(), t.farm.scheduling.agingMs);
    expect(waiting.scheduling).toMatchObject({
      queuePosition: 2,
      chosenBecause: null,
      effectivePriority: 4,
      waitingBecause: expect.stringContaining('no worker of pool linux is online'),
    });
    t.clock.advance(5 * MINUTE);
    await t.store.workers.checkIn('w1', { pool: 'linux', instance: 'w1' });
    const aged = await t.store.jobs.get(jobOf(second, 'build'), new Set(['w1']), t.farm.scheduling.agingMs);
    expect(aged.scheduling).toMatchObject({
      effectivePriority: 3.5,
      waitingBecause: expect.stringContaining('behind 1'),
    });
    await claimJob(t, 'w1');
    const running = await t.store.jobs.get(jobOf(first, 'build'));
    expect(running.scheduling).toMatchObject({ queuePosition: null, waitingBecause: null });
    expect(running.scheduling.chosenBecause).toEqual(expect.any(String));
    await expectRefusal(t.store.jobs.get(9999), 'not-found');
  });

  it('lists jobs newest first, by state, repo, branch, builder and pool, a page at a time', async () => {
    const main = await push(t);
    const feature = await push(t, { branch: 'feature/x' });
    const docs = await push(t, { repo: 'docs' });
    const ids = async (filter: Partial<Parameters<typeof t.store.jobs.list>[0]>) =>
      (await t.store.jobs.list({ limit: 100, ...filter })).map((job) => job.id);
    expect(await ids({})).toEqual([
      jobOf(docs, 'site'),
      jobOf(feature, 'test'),
      jobOf(feature, 'build'),
      jobOf(main, 'talos'),
      jobOf(main, 'test'),
      jobOf(main, 'build'),
    ]);
    expect(await ids({ states: ['waiting'] })).toEqual([jobOf(feature, 'test'), jobOf(main, 'test')]);
    expect(await ids({ repo: 'docs' })).toEqual([jobOf(docs, 'site')]);
    expect(await ids({ repo: 'app', branch: 'feature/x' })).toEqual([jobOf(feature, 'test'), jobOf(feature, 'build')]);
    expect(await ids({ builder: 'talos' })).toEqual([jobOf(main, 'talos')]);
    expect(await ids({ pool: 'perf' })).toEqual([jobOf(main, 'talos')]);
    expect(await ids({ limit: 2, before: jobOf(feature, 'build') })).toEqual([
      jobOf(main, 'talos'),
      jobOf(main, 'test'),
    ]);
  });

  it('finds the attempt to read logs from: the latest, or the one numbered', async () => {
    const pushed = await push(t);
    const buildId = jobOf(pushed, 'build');
    expect(await t.store.jobs.findAttempt(buildId)).toEqual({ job: { id: buildId, state: 'pending' }, attempt: null });
    const first = await claimJob(t, 'w1');
    await finish(t, first.attemptId, 'exception', 'worker-error');
    const second = await claimJob(t, 'w2');
    expect((await t.store.jobs.findAttempt(buildId)).attempt?.id).toBe(second.attemptId);
    expect((await t.store.jobs.findAttempt(buildId, 1)).attempt?.id).toBe(first.attemptId);
    await expectRefusal(t.store.jobs.findAttempt(buildId, 3), 'not-found');
    await expectRefusal(t.store.jobs.findAttempt(9999), 'not-found');
    expect(await t.store.jobs.attemptState(9999)).toBeUndefined();
    expect(await t.store.jobs.jobState(9999)).toBeUndefined();
  });

  it('counts jobs by state and pool', async () => {
    await push(t);
    await push(t, { branch: 'feature/x' });
    await runOnce(t, 'w1', 'success');
    t.clock.advance(SECOND);
    const counts = await t.store.jobs.countsByState();
    const sorted = [...counts].sort((a, b) => `${a.pool}${a.state}`.localeCompare(`${b.pool}${b.state}`));
    expect(sorted).toEqual([
      { state: 'pending', pool: 'linux', count: 2 },
      { state: 'success', pool: 'linux', count: 1 },
      { state: 'waiting', pool: 'linux', count: 1 },
      { state: 'pending', pool: 'perf', count: 1 },
    ]);
  });
});

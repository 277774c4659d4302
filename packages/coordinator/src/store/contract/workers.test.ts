import { expect, it } from 'vitest';
import {
  claim,
  claimJob,
  eventsAfter,
  eventTypesAfter,
  expectRefusal,
  finish,
  jobOf,
  keepRunning,
  LEASE,
  push,
  runOnce,
  startStep,
} from './builders.ts';
import { describeStoreContract, iso, MINUTE, SECOND } from './harness.ts';

describeStoreContract('workers', (t) => {
  it('records a new worker with its tags, version and warm caches, and announces it once', async () => {
    const warm = [{ repo: '/srv/app.git', branch: 'main', builder: 'build', at: t.clock.iso(-MINUTE) }];
    const request = { pool: 'linux', tags: { os: 'debian' }, version: '1.2.3', instance: 'p1', warm };
    expect(await t.store.workers.checkIn('w1', request)).toEqual({ benchedUntil: null });
    t.clock.advance(SECOND);
    await t.store.workers.checkIn('w1', request);
    expect(await eventTypesAfter(t, 0)).toEqual(['worker.connected']);
    expect(await t.store.workers.list()).toMatchObject([
      {
        name: 'w1',
        pool: 'linux',
        tags: { os: 'debian' },
        version: '1.2.3',
        state: 'idle',
        currentJob: null,
        warm,
        firstSeen: iso(t.clock.now - SECOND),
        lastSeen: iso(t.clock.now),
        speed: null,
        exceptionStreak: 0,
        benchedUntil: null,
      },
    ]);
  });

  it('lists workers by name', async () => {
    for (const name of ['w3', 'w1', 'w2']) await t.store.workers.checkIn(name, { pool: 'linux' });
    expect((await t.store.workers.list()).map((worker) => worker.name)).toEqual(['w1', 'w2', 'w3']);
  });

  it('requeues the assignment a worker process never received when that process asks again', async () => {
    const pushed = await push(t);
    const lost = await claimJob(t, 'w1');
    const again = await claimJob(t, 'w1');
    expect(again).toMatchObject({ attemptNumber: 1, job: { id: jobOf(pushed, 'build') } });
    expect((await t.store.jobs.get(jobOf(pushed, 'build'))).attempts.map((a) => a.id)).toEqual([again.attemptId]);
    expect(await t.store.jobs.attemptState(lost.attemptId)).toBeUndefined();
  });

  it('ends the attempt of a worker that asks for work while running a step, benches it and retries the job', async () => {
    const pushed = await push(t);
    const first = await claimJob(t, 'w1');
    await startStep(t, first.attemptId, 0);
    expect(await claim(t, 'w1')).toBeNull();
    expect(await t.store.jobs.attemptState(first.attemptId)).toEqual({
      state: 'exception',
      reason: 'worker-restarted',
    });
    const second = await claimJob(t, 'w2');
    expect(second).toMatchObject({ attemptNumber: 2, job: { id: jobOf(pushed, 'build') } });
  });

  it('refuses a second worker process under a name whose lease is live, and lets it in once the lease ran out', async () => {
    const pushed = await push(t);
    const held = await claimJob(t, 'w1', { instance: 'process-1' });
    const refusal = await expectRefusal(claim(t, 'w1', { instance: 'process-2' }), 'name-in-use');
    expect(refusal.details).toMatchObject({ attempt: held.attemptId });
    expect(await t.store.jobs.attemptState(held.attemptId)).toEqual({ state: 'running', reason: null });
    t.clock.advance(LEASE.leaseMs + 1);
    await t.store.workers.checkIn('w1', { pool: 'linux', instance: 'process-2' });
    expect(await t.store.jobs.attemptState(held.attemptId)).toEqual({ state: 'exception', reason: 'worker-restarted' });
    expect(await t.store.jobs.jobState(jobOf(pushed, 'build'))).toEqual({ state: 'pending', attempt_count: 1 });
  });

  it('benches a worker after an exception, for longer after each one in a row, and gives it no work meanwhile', async () => {
    await push(t);
    await push(t);
    await push(t);
    const first = await claimJob(t, 'w1');
    const before = await t.store.events.lastId();
    await finish(t, first.attemptId, 'exception', 'worker-error');
    const [benched] = await eventsAfter(t, before);
    expect(benched?.type).toBe('worker.benched');
    expect(await t.store.workers.checkIn('w1', { pool: 'linux', instance: 'w1-process' })).toEqual({
      benchedUntil: t.clock.now + 10 * SECOND,
    });
    expect(await claim(t, 'w1')).toBeNull();
    expect((await t.store.workers.list())[0]).toMatchObject({
      exceptionStreak: 1,
      benchedUntil: iso(t.clock.now + 10 * SECOND),
    });

    t.clock.advance(10 * SECOND);
    expect((await t.store.workers.list())[0]?.benchedUntil).toBeNull();
    const second = await claimJob(t, 'w1');
    await finish(t, second.attemptId, 'exception', 'worker-error');
    expect(await t.store.workers.checkIn('w1', { pool: 'linux', instance: 'w1-process' })).toEqual({
      benchedUntil: t.clock.now + 20 * SECOND,
    });

    t.clock.advance(20 * SECOND);
    await runOnce(t, 'w1', 'failure');
    expect((await t.store.workers.list())[0]).toMatchObject({ exceptionStreak: 0, benchedUntil: null });
  });

  it('does not bench a worker for a job that timed out', async () => {
    await push(t);
    const { attemptId } = await claimJob(t, 'w1');
    await finish(t, attemptId, 'exception', 'timeout');
    expect((await t.store.workers.list())[0]).toMatchObject({ exceptionStreak: 0, benchedUntil: null });
  });

  it('learns the speed of a worker from its successful runs against the builder’s median', async () => {
    await push(t, { branch: 'a' });
    await push(t, { branch: 'b' });
    const fast = await claimJob(t, 'fast');
    await keepRunning(t, fast.attemptId, 2 * MINUTE);
    await finish(t, fast.attemptId, 'success');
    const slow = await claimJob(t, 'slow');
    await keepRunning(t, slow.attemptId, 6 * MINUTE);
    await finish(t, slow.attemptId, 'success');
    const speeds = Object.fromEntries((await t.store.workers.list()).map((worker) => [worker.name, worker.speed]));
    // The first run is the median of one; the second ran 6 minutes against a median of 4.
    expect(speeds).toEqual({ fast: 1, slow: 1.5 });
  });

  it('takes workers that neither claim nor run anything offline, unless their claim is held', async () => {
    await push(t);
    await claimJob(t, 'busy');
    for (const name of ['quiet', 'waiting']) await t.store.workers.checkIn(name, { pool: 'linux' });
    t.clock.advance(2 * MINUTE);
    const before = await t.store.events.lastId();
    await t.store.workers.expireIdle(MINUTE, new Set(['waiting']));
    const states = Object.fromEntries((await t.store.workers.list()).map((worker) => [worker.name, worker.state]));
    expect(states).toEqual({ busy: 'busy', quiet: 'offline', waiting: 'idle' });
    expect(await eventTypesAfter(t, before)).toEqual(['worker.disconnected']);
    // Back again: announced as connected once more.
    await t.store.workers.checkIn('quiet', { pool: 'linux' });
    expect(await eventTypesAfter(t, before)).toEqual(['worker.disconnected', 'worker.connected']);
  });

  it('leaves workers that were heard from recently online', async () => {
    await t.store.workers.checkIn('w1', { pool: 'linux' });
    t.clock.advance(30 * SECOND);
    await t.store.workers.expireIdle(MINUTE, new Set());
    expect((await t.store.workers.list())[0]?.state).toBe('idle');
  });
});

import { expect, it } from 'vitest';
import { schedulingPolicy } from '../../scheduler/live-policy.ts';
import {
  claim,
  claimJob,
  eventsAfter,
  eventTypesAfter,
  expectRefusal,
  finish,
  jobOf,
  LEASE,
  push,
  startStep,
} from './builders.ts';
import { describeStoreContract, FARM_YAML, farmFrom, iso, MINUTE, SECOND, START } from './harness.ts';

describeStoreContract('jobs: claims and leases', (t) => {
  it('starts an attempt with a lease for a waiting worker, and announces it', async () => {
    const pushed = await push(t);
    const before = await t.store.events.lastId();
    const assignment = await claimJob(t, 'w1');
    const buildId = jobOf(pushed, 'build');
    expect(assignment).toMatchObject({
      attemptNumber: 1,
      leaseSeconds: 30,
      heartbeatSeconds: 10,
      job: { id: buildId, pushId: pushed.id, builder: 'build' },
    });
    const job = await t.store.jobs.get(buildId);
    expect(job).toMatchObject({ state: 'running', worker: 'w1', attemptCount: 1, startedAt: iso(START) });
    expect(job.attempts).toMatchObject([
      {
        id: assignment.attemptId,
        number: 1,
        worker: 'w1',
        state: 'running',
        leaseExpiresAt: iso(START + LEASE.leaseMs),
      },
    ]);
    expect(job.scheduling.chosenBecause).toEqual(expect.any(String));
    const [worker] = await t.store.workers.list();
    expect(worker).toMatchObject({
      name: 'w1',
      state: 'busy',
      currentJob: buildId,
      currentAttempt: assignment.attemptId,
    });
    expect(await eventTypesAfter(t, before)).toEqual(['worker.connected', 'job.started']);
  });

  it('gives a worker only work of its pool that it has the tags for', async () => {
    const docs = await push(t, { repo: 'docs' });
    expect(await claim(t, 'untagged')).toBeNull();
    expect(await claim(t, 'perf-1', { pool: 'perf' })).toBeNull();
    const tagged = await claimJob(t, 'debian', { tags: { os: 'debian' } });
    expect(tagged.job.id).toBe(jobOf(docs, 'site'));
  });

  it('gives nothing to a worker that did not check in, or that is busy', async () => {
    await push(t);
    await push(t);
    const policy = schedulingPolicy(t.farm);
    expect(await t.store.jobs.assignWork('linux', [{ name: 'stranger', idleSince: 0 }], policy, LEASE)).toEqual(
      new Map(),
    );
    await claimJob(t, 'w1');
    expect(await t.store.jobs.assignWork('linux', [{ name: 'w1', idleSince: 0 }], policy, LEASE)).toEqual(new Map());
  });

  it('matches every waiting worker of the pool in one round, each with its own job', async () => {
    const first = await push(t);
    const second = await push(t);
    for (const name of ['w1', 'w2']) await t.store.workers.checkIn(name, { pool: 'linux', instance: name });
    const waiting = [
      { name: 'w1', idleSince: START },
      { name: 'w2', idleSince: START },
    ];
    const assigned = await t.store.jobs.assignWork('linux', waiting, schedulingPolicy(t.farm), LEASE);
    expect(new Set([...assigned.values()].map((a) => a.job.id))).toEqual(
      new Set([jobOf(first, 'build'), jobOf(second, 'build')]),
    );
    expect([...assigned.keys()].sort()).toEqual(['w1', 'w2']);
  });

  it('runs the newest job of a coalescing builder and folds older ones into it, up to its limit', async () => {
    const pushes = [await push(t), await push(t), await push(t), await push(t)];
    const [oldest, second, third, newest] = pushes.map((p) => jobOf(p, 'talos')) as [number, number, number, number];
    const before = await t.store.events.lastId();
    const assignment = await claimJob(t, 'perf-1', { pool: 'perf' });
    expect(assignment.job.id).toBe(newest);
    for (const id of [second, third]) {
      const job = await t.store.jobs.get(id);
      expect(job).toMatchObject({ state: 'coalesced', coalescedInto: newest });
      expect(job.reason).toContain(`job ${newest}`);
    }
    expect((await t.store.jobs.get(oldest)).state).toBe('pending');
    const finished = (await eventsAfter(t, before)).filter((event) => event.type === 'job.finished');
    expect(finished.map((event) => event.job_id).sort()).toEqual([second, third].sort());
  });

  it('never coalesces jobs pushed with exact: true', async () => {
    const pushes = [await push(t, { exact: true }), await push(t, { exact: true })];
    const assignment = await claimJob(t, 'perf-1', { pool: 'perf' });
    expect(assignment.job.id).toBe(jobOf(pushes[0] as (typeof pushes)[number], 'talos'));
    expect((await t.store.jobs.get(jobOf(pushes[1] as (typeof pushes)[number], 'talos'))).state).toBe('pending');
  });

  it('renews a running attempt’s lease on a heartbeat', async () => {
    await push(t);
    const { attemptId } = await claimJob(t, 'w1');
    t.clock.advance(20 * SECOND);
    expect(await t.store.jobs.heartbeat(attemptId, LEASE.leaseMs)).toEqual({
      cancel: false,
      leaseExpiresAt: iso(t.clock.now + LEASE.leaseMs),
      heldMs: 0,
    });
    const [worker] = await t.store.workers.list();
    expect(worker?.lastSeen).toBe(iso(t.clock.now));
    // The renewed lease holds past the first one's end.
    t.clock.advance(20 * SECOND);
    expect(await t.store.jobs.expireLeases()).toBe(0);
  });

  it('tells a heartbeat of a cancelled attempt to stop, and refuses one of an attempt that ended', async () => {
    const pushed = await push(t);
    const cancelled = await claimJob(t, 'w1');
    await t.store.jobs.cancel(jobOf(pushed, 'build'));
    expect(await t.store.jobs.heartbeat(cancelled.attemptId, LEASE.leaseMs)).toMatchObject({ cancel: true });

    const talos = await claimJob(t, 'perf-1', { pool: 'perf' });
    await finish(t, talos.attemptId, 'success');
    const refusal = await expectRefusal(t.store.jobs.heartbeat(talos.attemptId, LEASE.leaseMs), 'lease-lost');
    expect(refusal.details).toEqual({ state: 'success', reason: null });
    await expectRefusal(t.store.jobs.heartbeat(talos.attemptId + 100, LEASE.leaseMs), 'not-found');
  });

  it('ends an attempt whose lease expired and queues its job again, keeping its place', async () => {
    const pushed = await push(t);
    const { attemptId } = await claimJob(t, 'w1');
    t.clock.advance(LEASE.leaseMs);
    expect(await t.store.jobs.expireLeases()).toBe(0);
    t.clock.advance(1);
    const before = await t.store.events.lastId();
    expect(await t.store.jobs.expireLeases()).toBe(1);
    const job = await t.store.jobs.get(jobOf(pushed, 'build'));
    expect(job).toMatchObject({
      state: 'pending',
      reason: 'retrying after worker-lost',
      worker: null,
      attemptCount: 1,
    });
    expect(job.attempts).toMatchObject([
      { id: attemptId, state: 'exception', reason: 'worker-lost', leaseExpiresAt: null },
    ]);
    expect(job.scheduling.queuePosition).toBe(1);
    const [worker] = await t.store.workers.list();
    expect(worker).toMatchObject({ state: 'offline', currentAttempt: null });
    expect(await eventTypesAfter(t, before)).toEqual([
      'worker.benched',
      'attempt.finished',
      'job.pending',
      'worker.disconnected',
    ]);
  });

  it('ends the job in exception when its last attempt loses its lease', async () => {
    const pushed = await push(t, { branch: 'feature/x' });
    for (const worker of ['w1', 'w2', 'w3']) {
      await claimJob(t, worker);
      t.clock.advance(LEASE.leaseMs + 1);
      await t.store.jobs.expireLeases();
    }
    const build = await t.store.jobs.get(jobOf(pushed, 'build'));
    expect(build).toMatchObject({ state: 'exception', reason: 'worker-lost (attempt 3 of 3)', attemptCount: 3 });
    expect(build.attempts.map((attempt) => attempt.worker)).toEqual(['w1', 'w2', 'w3']);
    expect((await t.store.jobs.get(jobOf(pushed, 'test'))).state).toBe('skipped');
  });

  it('undoes an assignment that never reached its worker, without using up an attempt', async () => {
    const pushed = await push(t);
    const lost = await claimJob(t, 'w1');
    const before = await t.store.events.lastId();
    await t.store.jobs.releaseUndelivered(lost.attemptId);
    const buildId = jobOf(pushed, 'build');
    expect(await t.store.jobs.jobState(buildId)).toEqual({ state: 'pending', attempt_count: 0 });
    expect((await t.store.jobs.findAttempt(buildId)).attempt).toBeNull();
    expect((await t.store.workers.list())[0]).toMatchObject({ state: 'idle', currentAttempt: null });
    expect(await eventTypesAfter(t, before)).toEqual(['job.pending']);
    // Releasing again, or an attempt that does not exist, changes nothing.
    await t.store.jobs.releaseUndelivered(lost.attemptId);
    expect(await t.store.events.lastId()).toBe(before + 1);
    const again = await claimJob(t, 'w1');
    expect(again).toMatchObject({ attemptNumber: 1, job: { id: buildId } });
  });

  it('keeps an assignment whose worker started a step: it was delivered', async () => {
    const pushed = await push(t);
    const { attemptId } = await claimJob(t, 'w1');
    await startStep(t, attemptId, 0, 'checkout');
    await t.store.jobs.releaseUndelivered(attemptId);
    expect(await t.store.jobs.jobState(jobOf(pushed, 'build'))).toEqual({ state: 'running', attempt_count: 1 });
  });

  it('gives running attempts a full lease after a coordinator restart', async () => {
    const pushed = await push(t);
    await claimJob(t, 'w1');
    t.clock.advance(5 * MINUTE);
    await t.store.jobs.renewLeasesAfterRestart(LEASE.leaseMs);
    expect(await t.store.jobs.expireLeases()).toBe(0);
    const [attempt] = (await t.store.jobs.get(jobOf(pushed, 'build'))).attempts;
    expect(attempt?.leaseExpiresAt).toBe(iso(t.clock.now + LEASE.leaseMs));
    // A lease longer than a restart's is never shortened.
    await t.store.jobs.renewLeasesAfterRestart(SECOND);
    const [unchanged] = (await t.store.jobs.get(jobOf(pushed, 'build'))).attempts;
    expect(unchanged?.leaseExpiresAt).toBe(iso(t.clock.now + LEASE.leaseMs));
  });

  it('reorders the pending jobs when the aging setting changes', async () => {
    const main = await push(t);
    t.clock.advance(40 * MINUTE);
    const release = await push(t, { branch: 'release' });
    const position = async (pushed: typeof main) =>
      (await t.store.jobs.get(jobOf(pushed, 'build'))).scheduling.queuePosition;
    // Aged 40 minutes at 10 a level, main's build (priority 4) stands before release's (priority 1).
    expect([await position(main), await position(release)]).toEqual([1, 2]);
    t.farm = farmFrom(FARM_YAML.replace('aging_minutes: 10', 'aging_minutes: 0'));
    await t.store.jobs.rerankPending(1e13);
    expect([await position(main), await position(release)]).toEqual([2, 1]);
    expect((await claimJob(t, 'w1')).job.id).toBe(jobOf(release, 'build'));
  });
});

import { expect, it } from 'vitest';
import { claimJob, expectRefusal, finish, jobOf, LEASE, push, startStep } from './builders.ts';
import { describeStoreContract, SECOND } from './harness.ts';

describeStoreContract('fencing: leases checked where they are used', (t) => {
  it('renews a lease up to its last millisecond', async () => {
    await push(t);
    const { attemptId } = await claimJob(t, 'w1');
    t.clock.advance(LEASE.leaseMs);
    expect(await t.store.jobs.heartbeat(attemptId, LEASE.leaseMs)).toMatchObject({ cancel: false });
  });

  it('refuses to renew, or take reports on, a lease that ran out before the reaper ended it', async () => {
    const pushed = await push(t);
    const { attemptId } = await claimJob(t, 'w1');
    await startStep(t, attemptId, 0, 'compile');
    t.clock.advance(LEASE.leaseMs + 1);
    const refusal = await expectRefusal(t.store.jobs.heartbeat(attemptId, LEASE.leaseMs), 'lease-lost');
    expect(refusal.details).toMatchObject({ state: 'running', reason: 'lease-expired' });
    await expectRefusal(
      t.store.jobs.stepStarted(attemptId, 1, { name: 'package', startedAt: t.clock.iso() }),
      'lease-lost',
    );
    await expectRefusal(finish(t, attemptId, 'success'), 'lease-lost');
    await expectRefusal(
      t.store.jobs.report(attemptId, [
        { kind: 'attempt-finished', request: { result: 'success', finishedAt: t.clock.iso() } },
      ]),
      'lease-lost',
    );
    // Nothing the refused reports said was kept: the reaper ends the attempt and the job runs again.
    expect(await t.store.jobs.expireLeases()).toBe(1);
    const job = await t.store.jobs.get(jobOf(pushed, 'build'));
    expect(job).toMatchObject({ state: 'pending', reason: 'retrying after worker-lost' });
    expect(job.attempts).toMatchObject([{ state: 'exception', reason: 'worker-lost' }]);
  });

  it('ends each expired attempt once when two coordinators reap at the same time', async () => {
    const other = await t.openAnother();
    const workers = ['w1', 'w2', 'w3', 'w4', 'w5', 'w6'];
    for (const _ of workers) await push(t, { branch: `feature/${_}` });
    for (const worker of workers) await claimJob(t, worker);
    t.clock.advance(LEASE.leaseMs + SECOND);
    const before = await t.store.events.lastId();
    // SQLite farms have one coordinator: two on one file take turns (a deferred transaction that
    // must upgrade to write is refused, not queued), so only PostgreSQL's are raced.
    const [mine, theirs] =
      t.dialect === 'postgres'
        ? await Promise.all([t.store.jobs.expireLeases(), other.jobs.expireLeases()])
        : [await t.store.jobs.expireLeases(), await other.jobs.expireLeases()];
    expect(mine + theirs).toBe(workers.length);
    const ended = (await t.store.events.readAfter(before, 1000)).filter((event) => event.type === 'attempt.finished');
    expect(ended).toHaveLength(workers.length);
    expect(new Set(ended.map((event) => event.job_id)).size).toBe(workers.length);
  });
});

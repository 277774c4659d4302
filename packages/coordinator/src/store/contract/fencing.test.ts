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

  it('gives a singleton to one replica: renewed only by its holder and term, taken over under the next term once it ran out', async () => {
    const { replicas } = t.store;
    expect(await replicas.claimSingleton('amqp-publisher', 'a', null, 10 * SECOND)).toEqual({
      held: true,
      term: 1,
      expiresAt: t.clock.now + 10 * SECOND,
    });
    // Another replica, or the holder under a term it does not hold, is told who holds it.
    expect(await replicas.claimSingleton('amqp-publisher', 'b', null, 10 * SECOND)).toMatchObject({
      held: false,
      holder: 'a',
      term: 1,
    });
    expect(await replicas.claimSingleton('amqp-publisher', 'a', 7, 10 * SECOND)).toMatchObject({ held: false });
    t.clock.advance(10 * SECOND);
    expect(await replicas.claimSingleton('amqp-publisher', 'a', 1, 10 * SECOND)).toMatchObject({ held: true, term: 1 });
    t.clock.advance(10 * SECOND + 1);
    expect(await replicas.claimSingleton('amqp-publisher', 'b', null, 10 * SECOND)).toMatchObject({
      held: true,
      term: 2,
    });
    // The old holder's renewal does not revive its term.
    expect(await replicas.claimSingleton('amqp-publisher', 'a', 1, 10 * SECOND)).toMatchObject({
      held: false,
      holder: 'b',
      term: 2,
    });
    // A release lets the next replica in at once, under a new term.
    await replicas.releaseSingleton({ name: 'amqp-publisher', holder: 'b', term: 2 });
    expect(await replicas.claimSingleton('amqp-publisher', 'a', null, 10 * SECOND)).toMatchObject({
      held: true,
      term: 3,
    });
    const { singletons } = await replicas.list();
    expect(singletons).toMatchObject([{ name: 'amqp-publisher', holder: 'a', term: 3 }]);
  });

  it('refuses a cursor advance fenced by a term another replica took over, and never moves a cursor back', async () => {
    const { replicas, events } = t.store;
    await events.publisherCursor('amqp', 0);
    const first = await replicas.claimSingleton('amqp-publisher', 'a', null, 10 * SECOND);
    const fenceA = { name: 'amqp-publisher', holder: 'a', term: first.term };
    await events.advancePublisherCursor('amqp', 10, fenceA);
    // a is paused past its lease; b takes over and publishes on.
    t.clock.advance(10 * SECOND + 1);
    const second = await replicas.claimSingleton('amqp-publisher', 'b', null, 10 * SECOND);
    const fenceB = { name: 'amqp-publisher', holder: 'b', term: second.term };
    await events.advancePublisherCursor('amqp', 20, fenceB);
    // a wakes up and tries to record the range it published before the pause.
    const refusal = await expectRefusal(events.advancePublisherCursor('amqp', 15, fenceA), 'singleton-lost');
    expect(refusal.details).toEqual(fenceA);
    expect(await events.publisherCursor('amqp', 0)).toBe(20);
    // Even its own holder never moves it back.
    await events.advancePublisherCursor('amqp', 12, fenceB);
    expect(await events.publisherCursor('amqp', 0)).toBe(20);
  });

  it('refuses webhook queue and delivery writes fenced by a lost term', async () => {
    const { replicas, subscriptions } = t.store;
    const subscription = await subscriptions.create({ url: 'http://127.0.0.1:9/hook', secret: 'shh', since: 0 });
    const a = await replicas.claimSingleton('webhooks', 'a', null, 10 * SECOND);
    const fenceA = { name: 'webhooks', holder: 'a', term: a.term };
    t.clock.advance(10 * SECOND + 1);
    await replicas.claimSingleton('webhooks', 'b', null, 10 * SECOND);
    const lastId = await t.store.events.lastId();
    await expectRefusal(subscriptions.enqueue(subscription.id, [lastId], lastId, fenceA), 'singleton-lost');
    expect((await subscriptions.require(subscription.id)).cursor).toBe(0);
    expect(await subscriptions.nextPending(subscription.id)).toBeUndefined();
  });

  it('gives a singleton nobody held to exactly one of two replicas asking at once', async () => {
    const other = await t.openAnother();
    const ask = (store: typeof other, holder: string) =>
      store.replicas.claimSingleton('webhooks', holder, null, SECOND);
    // SQLite farms have one coordinator: two on one file take turns (see above).
    const claims =
      t.dialect === 'postgres'
        ? await Promise.all([ask(t.store, 'a'), ask(other, 'b')])
        : [await ask(t.store, 'a'), await ask(other, 'b')];
    expect(claims.filter((claim) => claim.held)).toHaveLength(1);
    expect(claims.map((claim) => claim.term)).toEqual([1, 1]);
  });

  it('re-ranks the queue only when the aging setting differs from the one it was last ranked with', async () => {
    expect(await t.store.jobs.rerankPending(600_000)).toBe(true);
    expect(await t.store.jobs.rerankPending(600_000)).toBe(false);
    const other = await t.openAnother();
    expect(await other.jobs.rerankPending(600_000)).toBe(false);
    expect(await other.jobs.rerankPending(1e13)).toBe(true);
  });

  it('deletes each expired artifact once when two collectors run at the same time', async () => {
    const other = await t.openAnother();
    const pushed = await push(t, { branch: 'feature/x' });
    const { attemptId } = await claimJob(t, 'w1');
    const names = ['a.tar', 'b.tar', 'c.tar', 'd.tar', 'e.tar'];
    for (const [index, name] of names.entries()) {
      const target = await t.store.artifacts.uploadTarget(jobOf(pushed, 'build'), name, attemptId);
      const sha256 = String(index).repeat(64);
      await t.store.artifacts.record(target, {
        sha256,
        size: 1,
        contentType: 'text/plain',
        expiresAt: t.clock.now + 1,
      });
    }
    t.clock.advance(SECOND);
    // SQLite farms have one coordinator: two on one file take turns (see above).
    const [mine, theirs] =
      t.dialect === 'postgres'
        ? await Promise.all([t.store.artifacts.deleteExpired(), other.artifacts.deleteExpired()])
        : [await t.store.artifacts.deleteExpired(), await other.artifacts.deleteExpired()];
    expect(mine + theirs).toBe(names.length);
  });

  it('adds a config webhook once when two replicas sync the config at the same time', async () => {
    const other = await t.openAnother();
    const hooks = [{ name: 'ci', url: 'https://hooks.example.org/ci', secret: 'x'.repeat(16), filter: {} }];
    // SQLite farms have one coordinator: two on one file take turns (see above).
    if (t.dialect === 'postgres') {
      await Promise.all([t.store.subscriptions.syncConfigured(hooks), other.subscriptions.syncConfigured(hooks)]);
    } else {
      await t.store.subscriptions.syncConfigured(hooks);
      await other.subscriptions.syncConfigured(hooks);
    }
    expect((await t.store.subscriptions.all()).map((row) => row.name)).toEqual(['ci']);
  });
});

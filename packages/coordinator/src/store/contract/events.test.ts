import { expect, it, vi } from 'vitest';
import { claimJob, eventsAfter, finish, jobOf, push, startStep, stepEnded } from './builders.ts';
import { describeStoreContract } from './harness.ts';

describeStoreContract('events', (t) => {
  it('is empty at first: no last id, nothing to read', async () => {
    expect(await t.store.events.lastId()).toBe(0);
    expect(await t.store.events.readAfter(0, 10)).toEqual([]);
    expect(await t.store.events.get(1)).toBeUndefined();
  });

  it('makes every write’s events readable as soon as the write resolves', async () => {
    const pushed = await push(t);
    let attemptId = 0;
    const writes: Array<() => Promise<unknown>> = [
      () => t.store.workers.checkIn('w1', { pool: 'linux', instance: 'w1-process' }),
      async () => {
        attemptId = (await claimJob(t, 'w1')).attemptId;
      },
      () => startStep(t, attemptId, 0),
      () => t.store.jobs.stepFinished(attemptId, 0, stepEnded(t)),
      () => finish(t, attemptId, 'success'),
      () => t.store.jobs.retrigger(t.farm, jobOf(pushed, 'build')),
      () => t.store.jobs.cancel(jobOf(pushed, 'talos')),
      () => t.store.events.recordConfigReload(4, 2),
      () => t.store.subscriptions.create({ url: 'https://hook.example.org/', secret: 'x' }),
    ];
    for (const write of writes) {
      const before = await t.store.events.lastId();
      await write();
      expect((await eventsAfter(t, before)).length, String(write)).toBeGreaterThan(0);
    }
  });

  it('hands out ids in commit order: ascending, without gaps, each write’s events together', async () => {
    // On PostgreSQL two coordinators write at once; SQLite has one coordinator, whose writes interleave.
    const writers = t.dialect === 'postgres' ? [t.store, await t.openAnother()] : [t.store];
    await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        (writers[i % writers.length] as typeof t.store).pushes.create(t.farm, {
          repo: 'app',
          branch: `b${i}`,
          revision: `${i}`.padStart(7, '0'),
        }),
      ),
    );
    const events = await eventsAfter(t, 0);
    expect(events.map((event) => event.id)).toEqual(events.map((_, i) => i + 1));
    // A push's events are push.created then one per job, none of another push's in between.
    const byPush = events.map((event) => event.push_id);
    const runs = byPush.filter((id, i) => id !== byPush[i - 1]);
    expect(new Set(runs).size).toBe(runs.length);
    expect(runs).toHaveLength(12);
  });

  it('reads after an id, with the columns readers narrow by', async () => {
    const main = await push(t);
    const docs = await push(t, { repo: 'docs', branch: 'feature/y' });
    const all = await t.store.events.readAfter(0, 100);
    const created = all.find((event) => event.type === 'push.created' && event.push_id === docs.id);
    expect(created).toMatchObject({ repo: 'docs', branch: 'feature/y', builder: null, job_id: null });
    const talos = all.find((event) => event.job_id === jobOf(main, 'talos'));
    expect(talos).toMatchObject({ repo: 'app', branch: 'main', builder: 'talos', push_id: main.id });
    expect((await t.store.events.readAfter(2, 3)).map((event) => event.id)).toEqual([3, 4, 5]);
    expect(await t.store.events.get(3)).toEqual(all[2]);
    expect(await t.store.events.lastId()).toBe(all.at(-1)?.id);
  });

  it('announces a config reload', async () => {
    await t.store.events.recordConfigReload(4, 2);
    const [reloaded] = await eventsAfter(t, 0);
    expect(reloaded).toMatchObject({ type: 'config.reloaded', created_at: t.clock.now });
    expect(JSON.parse(reloaded?.data ?? '')).toEqual({ builders: 4, repos: 2 });
  });

  it('keeps how far each publisher has read, starting where it first asked', async () => {
    expect(await t.store.events.publisherCursor('amqp', 7)).toBe(7);
    expect(await t.store.events.publisherCursor('amqp', 99)).toBe(7);
    await t.store.events.advancePublisherCursor('amqp', 12);
    expect(await t.store.events.publisherCursor('amqp', 0)).toBe(12);
    expect(await t.store.events.publisherCursor('nats', 0)).toBe(0);
  });

  it('tells commit listeners of each write with events, until they stop listening', async () => {
    const heard = vi.fn();
    const stop = t.store.commits.onCommit(heard);
    await push(t);
    expect(heard).toHaveBeenCalled();
    stop();
    heard.mockClear();
    await push(t);
    expect(heard).not.toHaveBeenCalled();
  });

  if (t.dialect === 'postgres') {
    it('wakes the listeners of another coordinator on the same database', async () => {
      const other = await t.openAnother();
      const heard = vi.fn();
      other.commits.onCommit(heard);
      heard.mockClear();
      await push(t);
      await vi.waitFor(() => expect(heard).toHaveBeenCalled(), { timeout: 5000 });
    });
  }
});

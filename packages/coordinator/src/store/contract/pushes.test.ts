import { expect, it } from 'vitest';
import { claimJob, dataOf, eventsAfter, eventTypesAfter, expectRefusal, jobOf, push, runOnce } from './builders.ts';
import { describeStoreContract, FARM_YAML, farmFrom, START } from './harness.ts';

describeStoreContract('pushes', (t) => {
  it("records a push with the jobs its repo's builders plan for its branch, and announces them in one go", async () => {
    const onMain = await push(t, { message: 'fix the frobnicator', files: ['src/frob.c'] });
    expect(onMain).toMatchObject({
      repo: 'app',
      branch: 'main',
      author: 'Ann <ann@example.org>',
      message: 'fix the frobnicator',
      files: ['src/frob.c'],
      createdAt: new Date(START).toISOString(),
    });
    expect(onMain.jobs.map((job) => [job.builder, job.state, job.attemptCount])).toEqual([
      ['build', 'pending', 0],
      ['test', 'waiting', 0],
      ['talos', 'pending', 0],
    ]);
    const events = await eventsAfter(t, 0);
    expect(events.map((event) => [event.type, event.job_id])).toEqual([
      ['push.created', null],
      ['job.pending', jobOf(onMain, 'build')],
      ['job.waiting', jobOf(onMain, 'test')],
      ['job.pending', jobOf(onMain, 'talos')],
    ]);
    expect(events.every((event) => event.push_id === onMain.id && event.repo === 'app')).toBe(true);

    // talos runs on main only.
    const onFeature = await push(t, { branch: 'feature/x' });
    expect(onFeature.jobs.map((job) => job.builder)).toEqual(['build', 'test']);
  });

  it('refuses a push to a repo the farm does not have, and records nothing', async () => {
    const refusal = await expectRefusal(push(t, { repo: 'nope' }), 'invalid-input');
    expect(refusal.details).toMatchObject({ field: 'repo', known: ['app', 'docs'] });
    expect(await t.store.pushes.list({ limit: 10 })).toEqual([]);
    expect(await t.store.events.lastId()).toBe(0);
  });

  it('reads a push with its jobs, and says not-found for one that does not exist', async () => {
    const pushed = await push(t);
    expect(await t.store.pushes.get(pushed.id)).toEqual(pushed);
    await expectRefusal(t.store.pushes.get(pushed.id + 1), 'not-found');
  });

  it('lists pushes newest first, filtered by repo and branch, a page at a time', async () => {
    const first = await push(t);
    const second = await push(t, { branch: 'feature/x' });
    const third = await push(t, { repo: 'docs' });
    const fourth = await push(t);
    const ids = async (filter: Parameters<typeof t.store.pushes.list>[0]) =>
      (await t.store.pushes.list(filter)).map((p) => p.id);
    expect(await ids({ limit: 10 })).toEqual([fourth.id, third.id, second.id, first.id]);
    expect(await ids({ limit: 10, repo: 'app' })).toEqual([fourth.id, second.id, first.id]);
    expect(await ids({ limit: 10, repo: 'app', branch: 'main' })).toEqual([fourth.id, first.id]);
    expect(await ids({ limit: 2 })).toEqual([fourth.id, third.id]);
    expect(await ids({ limit: 2, before: third.id })).toEqual([second.id, first.id]);
    const [listed] = await t.store.pushes.list({ limit: 1 });
    expect(listed?.jobs.map((job) => job.builder)).toEqual(['build', 'test', 'talos']);
  });

  it('filters pushes by author, revision prefix and the result their newest jobs show, a page at a time', async () => {
    t.farm = farmFrom(FARM_YAML.replace('repos:\n', 'repos:\n  - { name: quiet, url: /srv/quiet.git }\n'));
    const ann = 'Ann <ann@example.org>';
    const failed = await push(t, { branch: 'feature/x', author: ann, revision: 'abc1230000000' });
    await runOnce(t, 'w1', 'failure');
    const running = await push(t, { branch: 'feature/x', author: 'Bob <BOB@example.org>', revision: 'abd4560000000' });
    await claimJob(t, 'w1');
    // No worker has the debian tag its only job needs.
    const pending = await push(t, { repo: 'docs', author: ann });
    const empty = await push(t, { repo: 'quiet', author: '100% Carl_' });
    const ids = async (filter: Parameters<typeof t.store.pushes.list>[0]) =>
      (await t.store.pushes.list(filter)).map((p) => p.id);

    expect(await ids({ limit: 10, author: 'ANN' })).toEqual([pending.id, failed.id]);
    expect(await ids({ limit: 10, author: 'bob@' })).toEqual([running.id]);
    // LIKE's wildcards are taken as the text they are.
    expect(await ids({ limit: 10, author: '0% c' })).toEqual([empty.id]);
    expect(await ids({ limit: 10, author: '_' })).toEqual([empty.id]);
    expect(await ids({ limit: 10, author: 'n%n' })).toEqual([]);
    expect(await ids({ limit: 10, revision: 'ab' })).toEqual([running.id, failed.id]);
    expect(await ids({ limit: 10, revision: 'ABC' })).toEqual([failed.id]);
    expect(await ids({ limit: 10, result: 'failure' })).toEqual([failed.id]);
    expect(await ids({ limit: 10, result: 'running' })).toEqual([running.id]);
    expect(await ids({ limit: 10, result: 'pending' })).toEqual([pending.id]);
    expect(await ids({ limit: 10, result: 'empty' })).toEqual([empty.id]);
    expect(await ids({ limit: 10, result: 'success' })).toEqual([]);
    expect(await ids({ limit: 10, result: 'failure', author: 'bob' })).toEqual([]);

    // A retrigger replaces the failed build: the push shows its new job's state.
    await t.store.jobs.retrigger(t.farm, jobOf(failed, 'build'));
    expect(await ids({ limit: 10, result: 'failure' })).toEqual([]);
    expect(await ids({ limit: 10, result: 'pending' })).toEqual([pending.id, failed.id]);
    expect(await ids({ limit: 1, result: 'pending' })).toEqual([pending.id]);
    expect(await ids({ limit: 1, result: 'pending', before: pending.id })).toEqual([failed.id]);
    expect(await ids({ limit: 1, result: 'pending', before: failed.id })).toEqual([]);
  });

  it('makes a job waiting on `after` pending once its dependency succeeds', async () => {
    const pushed = await push(t, { branch: 'feature/x' });
    const before = await t.store.events.lastId();
    await runOnce(t, 'w1', 'success');
    const pending = (await eventsAfter(t, before)).filter((event) => event.type === 'job.pending');
    expect(pending.map((event) => event.job_id)).toEqual([jobOf(pushed, 'test')]);
    expect((await t.store.pushes.get(pushed.id)).jobs.map((job) => job.state)).toEqual(['success', 'pending']);
  });

  it('skips a job waiting on `after` when its dependency fails, and completes the push once', async () => {
    const pushed = await push(t, { branch: 'feature/x' });
    const before = await t.store.events.lastId();
    await runOnce(t, 'w1', 'failure');
    const after = await t.store.pushes.get(pushed.id);
    expect(after.jobs.map((job) => job.state)).toEqual(['failure', 'skipped']);
    expect(await eventTypesAfter(t, before)).toEqual([
      'worker.connected',
      'job.started',
      'attempt.finished',
      'job.finished',
      'job.finished',
      'push.completed',
    ]);
    const completed = (await eventsAfter(t, before)).find((event) => event.type === 'push.completed');
    expect(dataOf<{ summary: { result: string; jobs: number } }>(completed).summary).toMatchObject({
      result: 'failure',
      jobs: 2,
    });
    const skipped = await t.store.jobs.get(jobOf(pushed, 'test'));
    expect(skipped.reason).toMatch(/build/);
  });
});

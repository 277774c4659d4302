import { describe, expect, it } from 'vitest';
import { authSection, bearer, expectError, FARM_YAML, inProcessCoordinator, now } from '../inject-testing.ts';

const coordinator = inProcessCoordinator(FARM_YAML + authSection(true));

const jobOf = (push: { jobs: Array<{ id: number; builder: string }> }, builder: string) =>
  push.jobs.find((job) => job.builder === builder)?.id as number;

describe('POST /api/v1/pushes', () => {
  it('records a push with its jobs: 201', async () => {
    const push = await coordinator.push({ author: 'Ann', files: ['a.c'] });
    expect(push).toMatchObject({ repo: 'app', branch: 'main', author: 'Ann', files: ['a.c'] });
    expect(push.jobs.map((job) => job.builder)).toEqual(['build', 'test']);
  });

  it('refuses a push without the push scope: 401 without a token, 403 with another scope', async () => {
    const payload = { repo: 'app', branch: 'main', revision: 'abcdef0' };
    expectError(await coordinator.inject({ method: 'POST', url: '/api/v1/pushes', payload }), 401, 'unauthenticated');
    const wrong = await coordinator.inject({
      method: 'POST',
      url: '/api/v1/pushes',
      headers: bearer('worker'),
      payload,
    });
    expect(expectError(wrong, 403, 'forbidden').details).toEqual({ scopes: ['worker'] });
    const unknown = { authorization: 'Bearer nobody' };
    expectError(
      await coordinator.inject({ method: 'POST', url: '/api/v1/pushes', headers: unknown, payload }),
      401,
      'unauthenticated',
    );
  });

  it('lets an admin token do what any scope may', async () => {
    const response = await coordinator.inject({
      method: 'POST',
      url: '/api/v1/pushes',
      headers: bearer('admin'),
      payload: { repo: 'docs', branch: 'main', revision: 'abcdef1' },
    });
    expect(response.statusCode).toBe(201);
  });

  it('refuses a body that breaks the schema, and an unknown repo: 400', async () => {
    const post = (payload: Record<string, unknown>) =>
      coordinator.inject({ method: 'POST', url: '/api/v1/pushes', headers: bearer('push'), payload });
    const badRevision = expectError(
      await post({ repo: 'app', branch: 'main', revision: 'XYZ' }),
      400,
      'invalid-request',
    );
    expect(badRevision.message).toMatch(/revision/);
    expectError(await post({ repo: 'app', branch: 'main', revision: 'abcdef0', color: 'red' }), 400, 'invalid-request');
    const unknown = expectError(
      await post({ repo: 'nope', branch: 'main', revision: 'abcdef0' }),
      400,
      'invalid-request',
    );
    expect(unknown.details).toMatchObject({ field: 'repo', known: ['app', 'docs'] });
  });
});

describe('GET /api/v1/pushes', () => {
  it('lists pushes newest first, filtered, a page at a time, without a token', async () => {
    const older = await coordinator.push({ branch: 'paging' });
    const newer = await coordinator.push({ branch: 'paging' });
    const list = await coordinator.inject({ url: '/api/v1/pushes?branch=paging&limit=1' });
    expect(list.statusCode).toBe(200);
    expect(list.json().pushes.map((p: { id: number }) => p.id)).toEqual([newer.id]);
    const page = await coordinator.inject({ url: `/api/v1/pushes?branch=paging&before=${newer.id}` });
    expect(page.json().pushes.map((p: { id: number }) => p.id)).toEqual([older.id]);
    expectError(await coordinator.inject({ url: '/api/v1/pushes?limit=0' }), 400, 'invalid-request');
  });

  it('reads one push: 200, 404 for none, 400 for a bad id', async () => {
    const push = await coordinator.push();
    const read = await coordinator.inject({ url: `/api/v1/pushes/${push.id}` });
    expect(read.json().push).toEqual(push);
    expectError(await coordinator.inject({ url: '/api/v1/pushes/99999' }), 404, 'not-found');
    expectError(await coordinator.inject({ url: '/api/v1/pushes/zero' }), 400, 'invalid-request');
  });
});

describe('jobs', () => {
  it('lists jobs by state, and refuses a state that does not exist: 400', async () => {
    const push = await coordinator.push({ branch: 'listing' });
    const waiting = await coordinator.inject({ url: '/api/v1/jobs?state=waiting,pending&branch=listing' });
    expect(waiting.json().jobs.map((job: { id: number }) => job.id)).toEqual([
      jobOf(push, 'test'),
      jobOf(push, 'build'),
    ]);
    const refused = expectError(
      await coordinator.inject({ url: '/api/v1/jobs?state=sleeping' }),
      400,
      'invalid-request',
    );
    expect(refused.message).toMatch(/sleeping/);
  });

  it('reads a job with its attempts and scheduling: 200, 404 for none', async () => {
    const push = await coordinator.push({ branch: 'reading' });
    const read = await coordinator.inject({ url: `/api/v1/jobs/${jobOf(push, 'build')}` });
    expect(read.statusCode).toBe(200);
    expect(read.json().job).toMatchObject({ id: jobOf(push, 'build'), state: 'pending', attempts: [] });
    expect(read.json().job.scheduling.queuePosition).toEqual(expect.any(Number));
    expectError(await coordinator.inject({ url: '/api/v1/jobs/99999' }), 404, 'not-found');
  });

  it('cancels a job with the cancel scope: 200, then 409 once it has ended, 404 for none, 403 without the scope', async () => {
    const push = await coordinator.push({ branch: 'cancelling' });
    const url = `/api/v1/jobs/${jobOf(push, 'build')}/cancel`;
    expectError(await coordinator.inject({ method: 'POST', url, headers: bearer('push') }), 403, 'forbidden');
    const cancelled = await coordinator.inject({ method: 'POST', url, headers: bearer('cancel') });
    expect(cancelled.statusCode).toBe(200);
    expect(cancelled.json().job).toMatchObject({ state: 'cancelled' });
    const again = expectError(
      await coordinator.inject({ method: 'POST', url, headers: bearer('cancel') }),
      409,
      'conflict',
    );
    expect(again.details).toEqual({ state: 'cancelled' });
    expectError(
      await coordinator.inject({ method: 'POST', url: '/api/v1/jobs/99999/cancel', headers: bearer('cancel') }),
      404,
      'not-found',
    );
  });

  it('retriggers a finished job: 201, and 409 for one still pending', async () => {
    const push = await coordinator.push({ branch: 'retrigger' });
    const url = (id: number) => `/api/v1/jobs/${id}/retrigger`;
    expectError(
      await coordinator.inject({ method: 'POST', url: url(jobOf(push, 'build')), headers: bearer('cancel') }),
      409,
      'conflict',
    );
    await coordinator.inject({
      method: 'POST',
      url: `/api/v1/jobs/${jobOf(push, 'build')}/cancel`,
      headers: bearer('cancel'),
    });
    const again = await coordinator.inject({
      method: 'POST',
      url: url(jobOf(push, 'build')),
      headers: bearer('cancel'),
    });
    expect(again.statusCode).toBe(201);
    expect(again.json().job).toMatchObject({
      builder: 'build',
      state: 'pending',
      retriggeredFrom: jobOf(push, 'build'),
    });
    expectError(
      await coordinator.inject({ method: 'POST', url: url(99999), headers: bearer('cancel') }),
      404,
      'not-found',
    );
  });
});

describe('GET /api/v1/jobs/:id/log', () => {
  it('serves the log of the latest attempt as text, and 404 for a job or attempt that does not exist', async () => {
    await coordinator.push({ branch: 'logging' });
    const assignment = await coordinator.claim('logger');
    if (!assignment) throw new Error('the worker was given no work');
    const { attemptId } = assignment;
    await coordinator.report(attemptId, 'steps/0/started', { name: 'compile', startedAt: now() });
    expect((await coordinator.appendLog(attemptId, 0, 0, 'compiling frob.c\n')).statusCode).toBe(200);
    const log = await coordinator.inject({ url: `/api/v1/jobs/${assignment.job.id}/log` });
    expect(log.statusCode).toBe(200);
    expect(log.headers['content-type']).toMatch(/^text\/plain/);
    expect(log.body).toContain('compiling frob.c');
    expectError(await coordinator.inject({ url: '/api/v1/jobs/99999/log' }), 404, 'not-found');
    expectError(await coordinator.inject({ url: `/api/v1/jobs/${assignment.job.id}/log?attempt=5` }), 404, 'not-found');
    await coordinator.report(attemptId, 'finished', { result: 'success', finishedAt: now() });
  });
});

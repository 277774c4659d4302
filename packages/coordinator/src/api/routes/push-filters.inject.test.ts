import { describe, expect, it } from 'vitest';
import { expectError, inProcessCoordinator } from '../inject-testing.ts';

describe.each(['sqlite', 'postgres'] as const)('GET /api/v1/pushes filtered on the server (%s)', (database) => {
  const coordinator = inProcessCoordinator(undefined, 'file', database);
  const list = async (query: string) => {
    const response = await coordinator.inject({ url: `/api/v1/pushes?${query}` });
    expect(response.statusCode).toBe(200);
    const body = response.json() as { pushes: Array<{ id: number }>; next: number | null };
    return { ids: body.pushes.map((push) => push.id), next: body.next };
  };

  it('by author, revision prefix and result, over every push, a page at a time', async () => {
    const old = await coordinator.push({ author: 'Ann Old <ann@example.org>', revision: 'abc1234' });
    const build = old.jobs.find((job) => job.builder === 'build')?.id;
    expect((await coordinator.inject({ method: 'POST', url: `/api/v1/jobs/${build}/cancel` })).statusCode).toBe(200);
    const newer = [];
    for (let i = 0; i < 3; i += 1) newer.push((await coordinator.push({ author: 'Bob <bob@example.org>' })).id);
    const [first, second, third] = newer as [number, number, number];

    expect(await list('author=ann%20OLD')).toEqual({ ids: [old.id], next: null });
    expect(await list('revision=ABC12')).toEqual({ ids: [old.id], next: null });
    expect(await list('result=cancelled')).toEqual({ ids: [old.id], next: null });
    expect(await list('result=pending&author=bob&limit=2')).toEqual({ ids: [third, second], next: second });
    expect(await list(`result=pending&author=bob&limit=2&before=${second}`)).toEqual({ ids: [first], next: null });
    expect(await list('result=failure')).toEqual({ ids: [], next: null });
    // The list says which event it shows the farm at (one the change feed has delivered): the
    // stream after it keeps it current.
    const delivered = coordinator.context.api.events.lastId;
    const read = (await coordinator.inject({ url: '/api/v1/pushes' })).json() as { cursor: number };
    expect(read.cursor).toBeGreaterThanOrEqual(delivered);
    expect(read.cursor).toBeLessThanOrEqual(await coordinator.store.events.lastId());
  });

  it('refuses a revision that is not hex and a result that does not exist: 400', async () => {
    expectError(await coordinator.inject({ url: '/api/v1/pushes?revision=xyz' }), 400, 'invalid-request');
    expectError(await coordinator.inject({ url: '/api/v1/pushes?result=green' }), 400, 'invalid-request');
    expectError(await coordinator.inject({ url: '/api/v1/pushes?author=' }), 400, 'invalid-request');
  });
});

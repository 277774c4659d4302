import type { Readable } from 'node:stream';
import { EVENT_TYPES } from '@switchyard/protocol';
import { describe, expect, it, vi } from 'vitest';
import { authSection, bearer, expectError, FARM_YAML, inProcessCoordinator, now } from '../inject-testing.ts';

/** Nothing listens there: deliveries fail and wait for their retry, which is all these tests need. */
const NOWHERE = 'http://127.0.0.1:9/hook';
const SECRET = '0123456789abcdef';

const coordinator = inProcessCoordinator(
  `${FARM_YAML}events:\n  webhooks:\n    - { name: from-config, url: "${NOWHERE}", secret: "${SECRET}" }\n${authSection(true)}`,
);

function createSubscription(payload: Record<string, unknown>, headers = bearer('push')) {
  return coordinator.inject({ method: 'POST', url: '/api/v1/subscriptions', headers, payload });
}

describe('subscriptions', () => {
  it('creates one: 201; refuses a bad filter or body: 400; another scope: 403, even to read', async () => {
    const created = await createSubscription({ url: NOWHERE, secret: SECRET, filter: { types: ['job.finished'] } });
    expect(created.statusCode).toBe(201);
    expect(created.json().subscription).toMatchObject({
      source: 'api',
      url: NOWHERE,
      filter: { types: ['job.finished'] },
    });
    expect(created.json().subscription.secret).toBeUndefined();
    const badType = expectError(
      await createSubscription({ url: NOWHERE, secret: SECRET, filter: { types: ['nope'] } }),
      400,
      'invalid-request',
    );
    expect(badType.message).toMatch(/nope/);
    expectError(await createSubscription({ secret: SECRET }), 400, 'invalid-request');
    expectError(await createSubscription({ url: NOWHERE, secret: SECRET }, bearer('read')), 403, 'forbidden');
    expectError(await coordinator.inject({ url: '/api/v1/subscriptions' }), 401, 'unauthenticated');
  });

  it('lists and reads them: 200, 404 for none', async () => {
    const list = await coordinator.inject({ url: '/api/v1/subscriptions', headers: bearer('push') });
    expect(list.json().subscriptions.map((s: { name: string | null }) => s.name)).toContain('from-config');
    const id = list.json().subscriptions[0].id;
    expect((await coordinator.inject({ url: `/api/v1/subscriptions/${id}`, headers: bearer('push') })).statusCode).toBe(
      200,
    );
    expectError(
      await coordinator.inject({ url: '/api/v1/subscriptions/99999', headers: bearer('push') }),
      404,
      'not-found',
    );
  });

  it('deletes one made through the API: 204, then 404; one from the config: 409', async () => {
    const id = (await createSubscription({ url: NOWHERE, secret: SECRET })).json().subscription.id;
    const remove = (which: number) =>
      coordinator.inject({ method: 'DELETE', url: `/api/v1/subscriptions/${which}`, headers: bearer('push') });
    expect((await remove(id)).statusCode).toBe(204);
    expectError(await remove(id), 404, 'not-found');
    const list = await coordinator.inject({ url: '/api/v1/subscriptions', headers: bearer('push') });
    const fromConfig = list.json().subscriptions.find((s: { source: string }) => s.source === 'config');
    expectError(await remove(fromConfig.id), 409, 'conflict');
  });

  it('shows the delivery log and queues an event again: 202; 404 for a delivery that is not its own', async () => {
    const id = (await createSubscription({ url: NOWHERE, secret: SECRET, filter: { types: ['push.created'] } })).json()
      .subscription.id;
    await coordinator.push();
    const deliveries = async () =>
      (await coordinator.inject({ url: `/api/v1/subscriptions/${id}/deliveries`, headers: bearer('push') })).json()
        .deliveries;
    await vi.waitFor(async () => expect(await deliveries()).toHaveLength(1), { timeout: 10_000 });
    const [delivery] = await deliveries();
    expect(delivery).toMatchObject({ subscriptionId: id, eventType: 'push.created' });
    const redeliver = (subscription: number) =>
      coordinator.inject({
        method: 'POST',
        url: `/api/v1/subscriptions/${subscription}/deliveries/${delivery.id}/redeliver`,
        headers: bearer('push'),
      });
    const again = await redeliver(id);
    expect(again.statusCode).toBe(202);
    expect(again.json().delivery).toMatchObject({ eventId: delivery.eventId, redeliveryOf: delivery.id });
    const other = (await createSubscription({ url: NOWHERE, secret: SECRET })).json().subscription.id;
    expectError(await redeliver(other), 404, 'not-found');
    expectError(
      await coordinator.inject({ url: '/api/v1/subscriptions/99999/deliveries', headers: bearer('push') }),
      404,
      'not-found',
    );
  });
});

describe('events', () => {
  it('refuses a stream with a filter it can’t apply before the stream starts: 400', async () => {
    const refusal = expectError(
      await coordinator.inject({ url: '/api/v1/events?types=job.exploded' }),
      400,
      'invalid-request',
    );
    expect(refusal.details).toEqual({ known: EVENT_TYPES });
    expectError(await coordinator.inject({ url: '/api/v1/events?result=great' }), 400, 'invalid-request');
    expectError(
      await coordinator.inject({ url: '/api/v1/events', headers: { 'last-event-id': 'yesterday' } }),
      400,
      'invalid-request',
    );
  });

  it('serves the event schemas: the index, one type, 404 for a type that does not exist', async () => {
    const index = await coordinator.inject({ url: '/api/v1/schemas/events' });
    expect(index.json().events.map((e: { type: string }) => e.type)).toEqual(EVENT_TYPES);
    const one = await coordinator.inject({ url: '/api/v1/schemas/events/job.finished.json' });
    expect(one.statusCode).toBe(200);
    expect(one.headers['content-type']).toMatch(/^application\/schema\+json/);
    expectError(await coordinator.inject({ url: '/api/v1/schemas/events/job.exploded.json' }), 404, 'not-found');
    expectError(await coordinator.inject({ url: '/api/v1/schemas/events/job.finished' }), 400, 'invalid-request');
  });
});

describe('GET /api/v1/events', () => {
  const streaming = inProcessCoordinator(FARM_YAML, 'test');

  /** Reads an SSE body until `done` says enough has come; the frames as [event, data] pairs. */
  async function readFrames(body: Readable, done: (frames: string[][]) => boolean): Promise<string[][]> {
    let text = '';
    for await (const chunk of body) {
      text += String(chunk);
      const frames = text
        .split('\n\n')
        .slice(0, -1)
        .map((frame) => {
          const field = (name: string) => frame.match(new RegExp(`^${name}: (.*)$`, 'm'))?.[1] ?? '';
          return [field('event'), field('data')];
        });
      if (done(frames)) return frames;
    }
    throw new Error(`the stream ended early: ${text}`);
  }

  it('streams the events after ?since= that match its filter, then new ones as they commit', async () => {
    const first = await streaming.push();
    const response = await streaming.inject({
      url: '/api/v1/events?since=0&types=push.created',
      payloadAsStream: true,
    });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/event-stream/);
    const pushes = (frames: string[][]) => frames.filter(([event]) => event === 'push.created');
    const reading = readFrames(response.stream(), (frames) => pushes(frames).length === 2);
    const second = await streaming.push();
    const frames = await reading;
    expect(frames[0]).toEqual(['ready', JSON.stringify({ cursor: 0 })]);
    expect(pushes(frames).map(([, data]) => JSON.parse(data as string).data.push.id)).toEqual([first.id, second.id]);
    expect(frames.every(([event]) => event === 'ready' || event === 'push.created')).toBe(true);
    await streaming.close();
  });
});

describe('stats', () => {
  // A farm of its own: the green push must be the only work there is.
  const quiet = inProcessCoordinator();

  it('answers the stats queries: 200; refuses a window out of range: 400', async () => {
    for (const what of ['pushes', 'waits', 'builders', 'workers']) {
      const answer = await quiet.inject({ url: `/api/v1/stats/${what}?days=2` });
      expect(answer.statusCode, what).toBe(200);
      expect(answer.json().window).toEqual(
        expect.objectContaining({ from: expect.any(String), to: expect.any(String) }),
      );
    }
    expectError(await quiet.inject({ url: '/api/v1/stats/pushes?days=0' }), 400, 'invalid-request');
    expectError(await quiet.inject({ url: '/api/v1/stats/builders?days=1000' }), 400, 'invalid-request');
  });

  it('finds the last green push of a branch: 404 until one is, then 200', async () => {
    const url = '/api/v1/repos/app/branches/release%2F1.0/last-green';
    expectError(await quiet.inject({ url }), 404, 'not-found');
    const push = await quiet.push({ branch: 'release/1.0' });
    for (const builder of ['build', 'test']) {
      const assignment = await quiet.claim('w1');
      expect(assignment?.job).toMatchObject({ pushId: push.id, builder });
      await quiet.report(assignment?.attemptId as number, 'finished', { result: 'success', finishedAt: now() });
    }
    const green = await quiet.inject({ url });
    expect(green.statusCode).toBe(200);
    expect(green.json()).toMatchObject({ repo: 'app', branch: 'release/1.0', push: push.id, jobs: 2 });
  });
});

import { expect, it } from 'vitest';
import type { ConfiguredWebhook } from '../../config/events-config.ts';
import { dataOf, eventsAfter, expectRefusal, push } from './builders.ts';
import type { ContractContext } from './harness.ts';
import { describeStoreContract, SECOND } from './harness.ts';

const HOOK = { url: 'https://ci.example.org/hook', secret: 's3cret' };

function webhook(name: string, url = `https://${name}.example.org/`): ConfiguredWebhook {
  return { name, url, secret: 'x', filter: { repo: 'app' } } as ConfiguredWebhook;
}

/** A subscription made through the API, with the events of one push queued for it. */
async function subscriptionWithQueue(t: ContractContext) {
  const row = await t.store.subscriptions.create(HOOK);
  const before = await t.store.events.lastId();
  await push(t);
  const queued = (await eventsAfter(t, before)).map((event) => event.id);
  await t.store.subscriptions.enqueue(row.id, queued, await t.store.events.lastId());
  return { id: row.id, queued };
}

describeStoreContract('subscriptions', (t) => {
  it('starts a new subscription at the end of the log, after the event announcing it', async () => {
    await push(t);
    const before = await t.store.events.lastId();
    const row = await t.store.subscriptions.create({ ...HOOK, filter: { types: ['job.finished'] } });
    const [changed] = await eventsAfter(t, before);
    expect(changed?.type).toBe('subscription.changed');
    expect(dataOf(changed)).toEqual({ subscription: row.id, change: 'created' });
    const end = await t.store.events.lastId();
    expect(end).toBe(changed?.id);
    expect(row).toMatchObject({ source: 'api', name: null, url: HOOK.url, secret: HOOK.secret, cursor: end });
    expect(await t.store.subscriptions.view(row)).toMatchObject({
      id: row.id,
      source: 'api',
      filter: { types: ['job.finished'] },
      cursor: end,
      pending: 0,
      failed: 0,
      createdAt: t.clock.iso(),
    });
  });

  it('starts where it is asked to, but never past the end of the log', async () => {
    await push(t);
    const end = await t.store.events.lastId();
    expect((await t.store.subscriptions.create({ ...HOOK, since: 1 })).cursor).toBe(1);
    expect((await t.store.subscriptions.create({ ...HOOK, since: end + 100 })).cursor).toBe(end + 1);
  });

  it('finds subscriptions, and says not-found for one that does not exist', async () => {
    const row = await t.store.subscriptions.create(HOOK);
    expect(await t.store.subscriptions.find(row.id)).toEqual(row);
    expect(await t.store.subscriptions.require(row.id)).toEqual(row);
    expect(await t.store.subscriptions.find(row.id + 1)).toBeUndefined();
    await expectRefusal(t.store.subscriptions.require(row.id + 1), 'not-found');
  });

  it('removes an API subscription with its queue, and announces it', async () => {
    const { id } = await subscriptionWithQueue(t);
    const before = await t.store.events.lastId();
    await t.store.subscriptions.remove(id);
    expect(await t.store.subscriptions.find(id)).toBeUndefined();
    expect(await t.store.subscriptions.nextPending(id)).toBeUndefined();
    const [removed] = await eventsAfter(t, before);
    expect(dataOf(removed)).toEqual({ subscription: id, change: 'deleted' });
    await expectRefusal(t.store.subscriptions.remove(id), 'not-found');
  });

  it('makes the config’s webhooks its subscriptions: new ones at the end of the log, changed ones keep their queue', async () => {
    await push(t);
    const end = await t.store.events.lastId();
    await t.store.subscriptions.syncConfigured([webhook('alpha'), webhook('beta')]);
    const configured = await t.store.subscriptions.all();
    expect(configured.map((row) => [row.name, row.source, row.cursor])).toEqual([
      ['alpha', 'config', end],
      ['beta', 'config', end],
    ]);
    const alpha = configured[0]?.id as number;
    await t.store.subscriptions.enqueue(alpha, [end], end);
    await t.store.subscriptions.syncConfigured([webhook('alpha', 'https://moved.example.org/')]);
    const after = await t.store.subscriptions.all();
    expect(after.map((row) => [row.id, row.name, row.url])).toEqual([[alpha, 'alpha', 'https://moved.example.org/']]);
    expect((await t.store.subscriptions.nextPending(alpha))?.event_id).toBe(end);
    const refusal = await expectRefusal(t.store.subscriptions.remove(alpha), 'conflict');
    expect(refusal.message).toMatch(/alpha/);
  });

  it('queues deliveries in event order and moves the cursor', async () => {
    const { id, queued } = await subscriptionWithQueue(t);
    const row = await t.store.subscriptions.require(id);
    expect(row.cursor).toBe(await t.store.events.lastId());
    expect((await t.store.subscriptions.view(row)).pending).toBe(queued.length);
    expect((await t.store.subscriptions.nextPending(id))?.event_id).toBe(queued[0]);
  });

  it('logs each delivery attempt and moves the delivery on: due again, delivered or failed', async () => {
    const { id, queued } = await subscriptionWithQueue(t);
    const first = await t.store.subscriptions.nextPending(id);
    if (!first) throw new Error('nothing queued');
    const at = t.clock.now;
    await t.store.subscriptions.recordAttempt(
      first,
      { at, status: 503, error: null, durationMs: 12 },
      { state: 'pending', retryAt: at + 5 * SECOND },
    );
    expect(await t.store.subscriptions.attemptCount(first.id)).toBe(1);
    const retried = await t.store.subscriptions.nextPending(id);
    expect(retried).toMatchObject({ id: first.id, next_attempt_at: at + 5 * SECOND, first_attempt_at: at });
    t.clock.advance(5 * SECOND);
    await t.store.subscriptions.recordAttempt(
      retried as NonNullable<typeof retried>,
      { at: t.clock.now, status: 200, error: null, durationMs: 8 },
      { state: 'delivered' },
    );
    expect((await t.store.subscriptions.nextPending(id))?.event_id).toBe(queued[1]);
    expect(await t.store.subscriptions.delivery(id, first.id)).toMatchObject({
      id: first.id,
      subscriptionId: id,
      eventId: queued[0],
      eventType: 'push.created',
      state: 'delivered',
      attempts: [
        { number: 1, status: 503, durationMs: 12, at: new Date(at).toISOString() },
        { number: 2, status: 200, durationMs: 8, at: t.clock.iso() },
      ],
      nextAttemptAt: null,
      finishedAt: t.clock.iso(),
      redeliveryOf: null,
    });
    const second = await t.store.subscriptions.nextPending(id);
    await t.store.subscriptions.recordAttempt(
      second as NonNullable<typeof second>,
      { at: t.clock.now, status: null, error: 'connection refused', durationMs: 1 },
      { state: 'failed' },
    );
    expect((await t.store.subscriptions.view(await t.store.subscriptions.require(id))).failed).toBe(1);
  });

  it('shows the delivery log newest first, a page at a time', async () => {
    const { id, queued } = await subscriptionWithQueue(t);
    const page = await t.store.subscriptions.deliveries(id, { limit: 2 });
    expect(page.map((delivery) => delivery.eventId)).toEqual([...queued].reverse().slice(0, 2));
    const next = await t.store.subscriptions.deliveries(id, { limit: 100, before: page.at(-1)?.id });
    expect(next.map((delivery) => delivery.eventId)).toEqual([...queued].reverse().slice(2));
    await expectRefusal(t.store.subscriptions.delivery(id, 9999), 'not-found');
  });

  it('queues an event again behind the queue, and announces the redelivery', async () => {
    const { id, queued } = await subscriptionWithQueue(t);
    const [original] = await t.store.subscriptions.deliveries(id, { limit: 1 });
    const before = await t.store.events.lastId();
    const again = await t.store.subscriptions.redeliver(id, original?.id as number);
    expect(again).toMatchObject({ event_id: queued.at(-1), state: 'pending', redelivery_of: original?.id });
    const [announced] = await eventsAfter(t, before);
    expect(dataOf(announced)).toEqual({ subscription: id, change: 'redelivery' });
    const other = await t.store.subscriptions.create(HOOK);
    await expectRefusal(t.store.subscriptions.redeliver(other.id, original?.id as number), 'not-found');
  });
});
